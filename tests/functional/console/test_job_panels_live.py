"""The Dataset and Training tabs grow with a job that starts while the console is open.

The dataset panel kept the height of its first text ("No dataset build has run ... yet", one
line), so a build started from the console showed only its title line until a resize.
"""

from __future__ import annotations

from pathlib import Path

from console.app import VidopsApp
from console.screens.dashboard import DashboardScreen
from console.synthetic import T0, write_finished_batch, write_jobs

BATCH = "20260921-120000-abc123"


def _screen_text(app: VidopsApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_dataset_panel_shows_a_build_that_appears_after_attaching(tmp_path: Path) -> None:
    write_finished_batch(tmp_path)
    app = VidopsApp(tmp_path, BATCH, refresh_hz=2.0, clock=lambda: T0 + 500, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            if isinstance(app.dashboard, DashboardScreen) and app.dashboard.polls >= 1:
                break
            await pilot.pause(0.02)
        dash = app.dashboard
        assert dash is not None
        dash.query_one("#tabs").active = "tab-dataset"
        for _ in range(100):
            if "No dataset build has run" in _screen_text(app):
                break
            await pilot.pause(0.02)
        assert "No dataset build has run" in _screen_text(app)
        write_jobs(tmp_path)  # a build (and a training run) finish while the console is open
        dash.jobs.rescan_soon()
        for _ in range(100):
            if "rows      900" in _screen_text(app):
                break
            await pilot.pause(0.05)
        text = _screen_text(app)
        assert "dataset job dataset-20260921T120500Z-000001  [finished]" in text
        assert "rows      900" in text and "duration  12.4s" in text and "target coverage" in text, text


async def test_pipeline_panel_shows_a_pipeline_that_appears_after_attaching(tmp_path: Path) -> None:
    from console.synthetic import write_pipeline_job

    write_finished_batch(tmp_path)
    app = VidopsApp(tmp_path, BATCH, refresh_hz=2.0, clock=lambda: T0 + 500, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(200):
            if isinstance(app.dashboard, DashboardScreen) and app.dashboard.polls >= 1:
                break
            await pilot.pause(0.02)
        dash = app.dashboard
        assert dash is not None
        dash.query_one("#tabs").active = "tab-pipeline"
        for _ in range(100):
            if "No pipeline has run" in _screen_text(app):
                break
            await pilot.pause(0.02)
        assert "No pipeline has run" in _screen_text(app)
        write_pipeline_job(tmp_path)
        dash.jobs.rescan_soon()
        for _ in range(100):
            if "✔ done     predict" in _screen_text(app):
                break
            await pilot.pause(0.05)
        text = _screen_text(app)
        assert "pipeline demo [finished]" in text and "✔ done     predict" in text, text
