"""Fixtures for console tests: real batches of generated videos, and helpers to wait on them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.batches import FAST as ENGINE_FAST
from support.batches import wait_for

# The engine tests' fast batch settings plus what the console tests need.
FAST = ENGINE_FAST + """
[alerts]
error_rate = 0.1
min_error_samples = 2
[console]
refresh_hz = 2.0
"""


def wait_until(pred: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    return wait_for(pred, timeout, what, poll_s=0.05)


async def wait_app(pilot: Any, pred: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Live:
    """A workspace with a list of generated videos (two good, two not videos) and a config."""

    def __init__(self, tmp: Path, make_video: Callable[..., Path]) -> None:
        self.dir = tmp
        self.ws = tmp / "ws"
        self.cfg = tmp / "fast.toml"
        self.cfg.write_text(FAST)
        for i in range(2):
            make_video(f"v{i}.avi", frames=12 + i)
        for name in ("bad1.mp4", "bad2.mp4"):
            (tmp / name).write_text("this is not a video\n")
        self.list = tmp / "list.csv"
        self.list.write_text("video_path\nv0.avi\nv1.avi\nbad1.mp4\nbad2.mp4\n")
        self.started: list[str] = []

    wait_until = staticmethod(wait_until)
    wait_app = staticmethod(wait_app)

    def settings(self) -> Any:
        from engine.config import load_settings

        return load_settings(self.cfg)

    def start(self, batch_id: str, workers: int = 2) -> str:
        from engine import api

        paths = api.prepare_batch(self.ws, self.settings(), str(self.list), batch_id)
        api.start_detached(paths, workers=workers)
        self.started.append(batch_id)
        return batch_id

    def events(self, batch_id: str) -> list[dict[str, Any]]:
        from engine.events import iter_events

        return list(iter_events(self.ws / "batches" / batch_id / "state.jsonl"))

    def alive(self, batch_id: str) -> bool:
        from engine import api

        return api.supervisor_running(self.ws, batch_id)

    def wait_ended(self, batch_id: str, ends: int = 1, timeout: float = 60) -> None:
        def ended() -> bool:
            n = sum(e["type"] in ("batch_finished", "batch_stopped") for e in self.events(batch_id))
            return n >= ends and not self.alive(batch_id)

        wait_until(ended, timeout, f"batch {batch_id} to end {ends} time(s)")

    def stop_all(self) -> None:
        from engine import api

        for b in self.started:
            if self.alive(b):
                try:
                    api.command(self.ws, b, "stop", now=True)
                except Exception:  # noqa: BLE001 - it may have ended meanwhile
                    pass
        for b in self.started:
            wait_until(lambda b=b: not self.alive(b), 30, f"batch {b} to stop")


@pytest.fixture
def live(tmp_path: Path, make_video: Callable[..., Path]) -> Iterator[Live]:
    lv = Live(tmp_path, make_video)
    yield lv
    lv.stop_all()
