"""The dashboard's notifications say what an engine reply says (Pilot, synthetic batches, no supervisor)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from console.app import VidopsApp
from console.screens.dashboard import DashboardScreen
from console.synthetic import T0, write_finished_batch

BATCH = "20260921-120000-abc123"


async def wait_app(pilot: Any, pred: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := pred():
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def _retry_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, choice: str) -> list[tuple[str, str]]:
    """Press R on a finished batch with permanent failures, pick ``choice``; the notifications."""
    write_finished_batch(tmp_path)  # every 7th video failed with not_video (permanent)
    app = VidopsApp(tmp_path, BATCH, refresh_hz=2.0, clock=lambda: T0 + 500, cursor_blink=False)
    notes: list[tuple[str, str]] = []
    notify = app.notify

    def record(message: str, **kwargs: Any) -> None:
        notes.append((kwargs.get("title", ""), message))
        notify(message, **kwargs)

    monkeypatch.setattr(app, "notify", record)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_app(pilot, lambda: isinstance(app.dashboard, DashboardScreen)
                       and app.dashboard.videos.failed_keys, what="the failed videos")
        await pilot.press("R")
        await wait_app(pilot, lambda: app.screen.query(f"#choice-{choice}"), what="the confirmation")
        await pilot.click(f"#choice-{choice}")
        await wait_app(pilot, lambda: notes, what="a notification")
    return notes


async def test_retry_all_with_only_permanent_failures_shows_the_reply_message(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # No supervisor and nothing transient to retry: api.retry_videos answers resumed=false with why.
    notes = await _retry_all(tmp_path, monkeypatch, "transient")
    assert notes == [("retry all", "nothing to retry: 5 of 5 failures are permanent (bad input); fix the input, "
                                   "then name it with --video KEY, or add --include-permanent to --all-failed")]


async def test_retry_reply_that_requeued_nothing_does_not_claim_it_did(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import api

    # A live supervisor's reply has no message: an empty 'requeued' is all it says.
    monkeypatch.setattr(api, "retry_videos", lambda *a, **k: {"ok": True, "requeued": []})
    notes = await _retry_all(tmp_path, monkeypatch, "transient")
    assert len(notes) == 1 and notes[0][1].startswith("nothing re-queued"), notes
