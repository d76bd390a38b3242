"""Snapshot tests of the console at fixed sizes on a deterministic workspace.

The batch log, the jobs and the system metrics are synthetic with fixed timestamps, the clock
is frozen and the cursor does not blink, so the SVGs are the same on every machine.
Update with ``pytest tests/snapshots --snapshot-update`` after an intended change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from console.app import VidopsApp
from console.screens.dashboard import DashboardScreen
from console.synthetic import T0, write_finished_batch, write_jobs, write_pipeline_job
from console.widgets.batch_header import BatchHeader
from console.widgets.pipeline_panel import PipelinePanel

BATCH = "20260921-120000-abc123"


@pytest.fixture
def app(tmp_path: Path) -> VidopsApp:
    write_finished_batch(tmp_path)
    write_jobs(tmp_path)
    write_pipeline_job(tmp_path)
    # 0.1 Hz: exactly one poll lands before the snapshot (a second one would add sparkline samples).
    app = VidopsApp(tmp_path, BATCH, refresh_hz=0.1, clock=lambda: T0 + 500, cursor_blink=False)
    app.animation_level = "none"  # the tab underline slides: a snapshot mid-slide differs
    return app


def ready(tab: str | None = None, press: tuple[str, ...] = ()) -> Any:
    async def run_before(pilot: Any) -> None:
        app = pilot.app
        for _ in range(200):
            dash = app.dashboard
            if isinstance(dash, DashboardScreen) and dash.polls >= 1 and dash.summary is not None:
                break
            await pilot.pause(0.02)
        if tab == "tab-pipeline":  # the job logs arrive in the same poll, but under load a beat later
            for _ in range(200):
                view = dash.query_one(PipelinePanel).view
                if view is not None and view.state == "finished" and view.predictions:
                    break
                await pilot.pause(0.02)
        # The header grows to two lines once the summary arrives: let that layout pass land.
        for _ in range(100):
            if dash.query_one(BatchHeader).size.height >= 2:
                break
            await pilot.pause(0.02)
        if tab:
            dash.query_one("#tabs").active = tab
        if press:
            await pilot.press(*press)
        await pilot.pause(0.2)

    return run_before


@pytest.mark.parametrize("size", [(100, 30), (80, 24), (60, 20)])  # 60x20: the footer on two rows
def test_dashboard_videos(snap_compare: Any, app: VidopsApp, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size, run_before=ready())


def test_failed_screen(snap_compare: Any, app: VidopsApp) -> None:
    assert snap_compare(app, terminal_size=(100, 30), run_before=ready(press=("F",)))


def test_system_tab_without_gpu(snap_compare: Any, app: VidopsApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready("tab-system"))


def test_alerts_tab(snap_compare: Any, app: VidopsApp) -> None:
    assert snap_compare(app, terminal_size=(100, 30), run_before=ready("tab-alerts"))


def test_training_tab(snap_compare: Any, app: VidopsApp) -> None:
    assert snap_compare(app, terminal_size=(100, 30), run_before=ready("tab-training"))


def test_dataset_tab(snap_compare: Any, app: VidopsApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready("tab-dataset"))


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
def test_pipeline_tab(snap_compare: Any, app: VidopsApp, size: tuple[int, int]) -> None:
    assert snap_compare(app, terminal_size=size, run_before=ready("tab-pipeline"))


def test_help(snap_compare: Any, app: VidopsApp) -> None:
    assert snap_compare(app, terminal_size=(100, 30), run_before=ready(press=("question_mark",)))


def test_dataset_dialog_80x24(snap_compare: Any, app: VidopsApp) -> None:
    # Its Start and Cancel buttons were cut off at 80x24 before the fields were made compact.
    assert snap_compare(app, terminal_size=(80, 24), run_before=ready(press=("d",)))
