"""The console against real running batches of generated videos (driven with Textual's Pilot).

Outcomes are checked through the engine (its event log), not through the UI.
"""

from __future__ import annotations

from typing import Any

import pytest

from console.app import VidopsApp
from console.screens.dashboard import DashboardScreen
from console.screens.failed import FailedScreen
from console.screens.resume import ResumeScreen
from console.widgets.alerts_table import AlertsTable
from console.widgets.system_panel import NO_GPU, SystemPanel

pytestmark = pytest.mark.slow
BAD = ("local__bad1", "local__bad2")


def _requeued(events: list[dict[str, Any]], key: str) -> int:
    return sum(1 for e in events if e["type"] == "video_queued" and e.get("key") == key and e.get("reset_budget"))


def _app(live: Any, batch_id: str | None) -> VidopsApp:
    return VidopsApp(live.ws, batch_id, config_path=str(live.cfg), refresh_hz=2.0, cursor_blink=False)


async def test_failed_videos_retry_one_then_all_alert_and_no_gpu(live: Any) -> None:
    batch = live.start("b-failed")
    app = _app(live, batch)
    async with app.run_test(size=(100, 30)) as pilot:
        dash = app.dashboard
        assert isinstance(dash, DashboardScreen)
        await live.wait_app(pilot, lambda: len(dash.videos.failed_keys) == 2, what="two failed videos")
        # The error-rate alert (2 failures of at least 2 finished videos) shows in the alerts tab.
        alerts = dash.query_one(AlertsTable)
        await live.wait_app(pilot, lambda: any(a.get("kind") == "error_rate" for a in alerts.alerts),
                            what="the error-rate alert")
        # No NVIDIA GPU here: the system panel says so and still shows the CPU.
        text = dash.query_one(SystemPanel).render_text().plain
        assert NO_GPU in text and "CPU" in text
        await live.wait_app(pilot, lambda: dash.summary is not None and not dash.summary.alive,
                            what="the batch to finish")
        await pilot.press("F")
        await live.wait_app(pilot, lambda: isinstance(app.screen, FailedScreen) and app.screen.table.row_count == 2,
                            what="the Failed screen listing both")
        failed = app.screen
        assert isinstance(failed, FailedScreen)
        key = failed.selected_key
        assert key in BAD
        await pilot.press("r")
        live.wait_until(lambda: _requeued(live.events(batch), key) == 1, 30, f"{key} re-queued")
        live.wait_ended(batch, ends=2)
        other = next(k for k in BAD if k != key)
        assert _requeued(live.events(batch), other) == 0
        # R asks first; "Retry all, permanent too" re-queues both (they are permanent failures).
        await live.wait_app(pilot, lambda: len(dash.videos.failed_keys) == 2, what="both failed again")
        await pilot.press("R")
        await live.wait_app(pilot, lambda: app.screen.query("#choice-all"), what="the confirmation")
        await pilot.click("#choice-all")
        live.wait_until(lambda: all(_requeued(live.events(batch), k) >= 1 + (k == key) for k in BAD), 30,
                        "both re-queued")
        live.wait_ended(batch, ends=3)


async def test_resume_screen_resumes_a_stopped_batch_and_s_stops_it(live: Any, monkeypatch: Any) -> None:
    from engine import api

    monkeypatch.setenv("VIDOPS_FAULTS", '{"local__v0": {"sleep_s": 30}}')
    batch = live.start("b-stop", workers=1)
    live.wait_until(lambda: any(e["type"] == "video_started" for e in live.events(batch)), 30, "a start")
    api.command(live.ws, batch, "stop", now=True)
    live.wait_ended(batch, ends=1)
    app = _app(live, None)  # the workspace view: opens the latest batch
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.2)
        assert app.batch_id == batch
        await pilot.press("b")
        await live.wait_app(pilot, lambda: isinstance(app.screen, ResumeScreen) and app.screen.batches,
                            what="the batch list")
        assert app.screen.batches[batch]["state"] == "stopped"
        await pilot.press("enter")
        live.wait_until(lambda: sum(e["type"] == "batch_started" for e in live.events(batch)) == 2, 30,
                        "the batch to be resumed")
        dash = await live.wait_app(pilot, lambda: isinstance(app.screen, DashboardScreen) and app.screen,
                                   what="the dashboard of the resumed batch")
        await live.wait_app(pilot, lambda: dash.summary is not None and dash.summary.alive, what="live")
        # s asks first, then stops the batch through the engine.
        await pilot.press("s")
        await live.wait_app(pilot, lambda: app.screen.query("#choice-stop"), what="the stop confirmation")
        await pilot.press("enter")
        live.wait_ended(batch, ends=2)
        assert live.events(batch)[-1]["type"] == "batch_stopped"
