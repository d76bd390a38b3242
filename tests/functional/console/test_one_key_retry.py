"""One-key retry from the dashboard: the footer shows `r` as usable once a failed row is selected.

The footer's enabled keys were refreshed only when a poll brought changes, so on a finished
batch `r Retry` stayed dimmed on a failed row although the key worked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.console_pilot import console_app, settle, wait_for_dashboard
from textual.widgets._footer import FooterKey

from console.synthetic import write_finished_batch

BATCH = "20260921-120000-abc123"


async def test_r_is_enabled_in_the_footer_on_a_failed_row_and_retries_it(tmp_path: Path, monkeypatch: Any) -> None:
    from engine import api

    calls: list[tuple[str, list[str]]] = []

    def retry(ws: Any, batch: str, keys: list[str], **kw: Any) -> dict[str, Any]:
        calls.append((batch, keys))
        return {"ok": True, "requeued": keys}

    monkeypatch.setattr(api, "retry_videos", retry)
    write_finished_batch(tmp_path)
    app = console_app(tmp_path, BATCH, refresh_hz=1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_dashboard(app, pilot)
        await pilot.pause(0.1)

        def r_key() -> FooterKey:
            return next(k for k in app.screen.query(FooterKey) if k.key == "r")

        await settle(pilot, lambda: any(k.key == "r" for k in app.screen.query(FooterKey)))
        assert r_key().has_class("-disabled")  # row 0 is done
        await pilot.press(*["down"] * 6)  # v000006 failed
        await pilot.pause(0.2)
        assert app.dashboard is not None and app.dashboard.videos.selected_key == "local__v000006"
        assert not r_key().has_class("-disabled")
        await pilot.press("r")
        await settle(pilot, lambda: calls)
        assert calls == [(BATCH, ["local__v000006"])]
        await pilot.press("down")
        await pilot.pause(0.2)
        assert r_key().has_class("-disabled")  # v000007 is done
