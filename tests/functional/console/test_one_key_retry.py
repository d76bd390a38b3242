"""One-key retry from the dashboard: the footer shows `r` as usable once a failed row is selected.

The footer's enabled keys were refreshed only when a poll brought changes, so on a finished
batch `r Retry` stayed dimmed on a failed row although the key worked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets._footer import FooterKey

from console.app import VidopsApp
from console.screens.dashboard import DashboardScreen
from console.synthetic import T0, write_finished_batch

BATCH = "20260921-120000-abc123"


async def test_r_is_enabled_in_the_footer_on_a_failed_row_and_retries_it(tmp_path: Path, monkeypatch: Any) -> None:
    from engine import api

    calls: list[tuple[str, list[str]]] = []

    def retry(ws: Any, batch: str, keys: list[str], **kw: Any) -> dict[str, Any]:
        calls.append((batch, keys))
        return {"ok": True, "requeued": keys}

    monkeypatch.setattr(api, "retry_videos", retry)
    write_finished_batch(tmp_path)
    app = VidopsApp(tmp_path, BATCH, refresh_hz=1.0, clock=lambda: T0 + 500, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            if isinstance(app.dashboard, DashboardScreen) and app.dashboard.polls >= 1:
                break
            await pilot.pause(0.02)
        await pilot.pause(0.1)

        def r_key() -> FooterKey:
            return next(k for k in app.screen.query(FooterKey) if k.key == "r")

        for _ in range(100):
            if any(k.key == "r" for k in app.screen.query(FooterKey)):
                break
            await pilot.pause(0.02)
        assert r_key().has_class("-disabled")  # row 0 is done
        await pilot.press(*["down"] * 6)  # v000006 failed
        await pilot.pause(0.2)
        assert app.dashboard is not None and app.dashboard.videos.selected_key == "local__v000006"
        assert not r_key().has_class("-disabled")
        await pilot.press("r")
        for _ in range(100):
            if calls:
                break
            await pilot.pause(0.02)
        assert calls == [(BATCH, ["local__v000006"])]
        await pilot.press("down")
        await pilot.pause(0.2)
        assert r_key().has_class("-disabled")  # v000007 is done
