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
    tab_text,
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
        # 5 s: it timed out at 2 s (and once at 5 s) in full runs on 2 busy cores; it says what was shown
        await tab_text(app, pilot, "tab-pipeline", "No pipeline has run")
        write_pipeline_job(tmp_path)
        dash.jobs.rescan_soon()
        await wait_for_text(app, pilot, "✔ done     predict", pause=0.05)
        text = screen_text(app)
        assert "pipeline demo [finished]" in text and "✔ done     predict" in text, text


async def test_dataset_panel_shows_the_builds_warnings(tmp_path: Path) -> None:
    from console.synthetic import T0, _ev
    from engine.events import EventWriter

    write_finished_batch(tmp_path)
    job = tmp_path / "jobs" / "dataset-20260921T120500Z-000001"
    job.mkdir(parents=True)
    warning = ("2 of 2 videos have result-store runs only under other extract config hashes than the "
               "current one (abc): def (2 videos)")
    with EventWriter(job / "events.jsonl", fsync_interval_s=3600) as w:
        w.write(_ev("dataset_started", T0, snapshots="s.csv", format="trending", out="ds"))
        w.write(_ev("dataset_finished", T0 + 1, rows=10, coverage={}, duration_s=1.0, out="ds", warnings=[warning]))
    app = console_app(tmp_path, refresh_hz=2.0)
    async with app.run_test(size=(160, 30)) as pilot:
        text = " ".join((await tab_text(app, pilot, "tab-dataset", "rows      10")).split())
        assert "warning: 2 of 2 videos have result-store runs only under other extract config hashes" in text, text
