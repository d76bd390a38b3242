"""The Dataset and Training tabs grow with a job that starts while the console is open.

The dataset panel kept the height of its first text ("No dataset build has run ... yet", one
line), so a build started from the console showed only its title line until a resize.
"""

from __future__ import annotations

from pathlib import Path

from support.console_pilot import (
    console_app,
    screen_text,
    show_tab,
    wait_for_dashboard,
    wait_for_text,
)

from console.synthetic import write_finished_batch, write_jobs


async def test_dataset_panel_shows_a_build_that_appears_after_attaching(tmp_path: Path) -> None:
    write_finished_batch(tmp_path)
    app = console_app(tmp_path, refresh_hz=2.0)
    async with app.run_test(size=(100, 30)) as pilot:
        dash = await wait_for_dashboard(app, pilot)
        show_tab(dash, "tab-dataset")
        assert await wait_for_text(app, pilot, "No dataset build has run")
        write_jobs(tmp_path)  # a build (and a training run) finish while the console is open
        dash.jobs.rescan_soon()
        await wait_for_text(app, pilot, "rows      900", pause=0.05)
        text = screen_text(app)
        assert "dataset job dataset-20260921T120500Z-000001  [finished]" in text
        assert "rows      900" in text and "duration  12.4s" in text and "target coverage" in text, text


async def test_pipeline_panel_shows_a_pipeline_that_appears_after_attaching(tmp_path: Path) -> None:
    from console.synthetic import write_pipeline_job

    write_finished_batch(tmp_path)
    app = console_app(tmp_path, refresh_hz=2.0)
    async with app.run_test(size=(100, 30)) as pilot:
        dash = await wait_for_dashboard(app, pilot)
        show_tab(dash, "tab-pipeline")
        assert await wait_for_text(app, pilot, "No pipeline has run")
        write_pipeline_job(tmp_path)
        dash.jobs.rescan_soon()
        await wait_for_text(app, pilot, "✔ done     predict", pause=0.05)
        text = screen_text(app)
        assert "pipeline demo [finished]" in text and "✔ done     predict" in text, text
