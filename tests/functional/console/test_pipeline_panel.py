"""The Pipeline tab on a real pipeline job: generated snapshots, one generated video, a tiny model.

``engine.jobs.start_job(ws, "pipeline", {"spec": ...})`` runs extract → dataset → train →
predict detached, as ``vidops pipeline`` does; the console follows it and must show every
stage's status and, at the end, the values of the prediction file. The Dataset and Training
tabs must follow the ``dataset-*`` / ``train-*`` jobs the stages start.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.snapshots import write_snapshots

from console.app import VidopsApp
from console.jobs_state import STAGE_LABELS, load_prediction
from console.widgets.dataset_panel import DatasetPanel
from console.widgets.pipeline_panel import PipelinePanel, fmt_cell
from console.widgets.training_panel import TrainingPanel

REPO = Path(__file__).resolve().parents[3]
CONFIG = """
[extract]
modules = []
[console]
refresh_hz = 2.0
[model]
iterations = 30
early_stopping_rounds = 10
depth = 3
learning_rate = 0.3
task_type = "cpu"
progress_every = 5
progress_min_interval_s = 0.0
"""
@pytest.fixture
def pipeline_inputs(tmp_path: Path, make_video: Callable[..., Path]) -> tuple[Path, Path, dict[str, Any]]:
    make_video("v0.avi", frames=12)
    (tmp_path / "list.csv").write_text("video_path\nv0.avi\n")
    cfg = tmp_path / "pipeline.toml"
    cfg.write_text(CONFIG)
    snapshot = {"platform_id": "local", "video_id": "v0", "snapshot_time": "2026-02-20T12:00:00Z",
                "published_at": "2026-02-20T06:00:00Z", "views": 5000, "likes": 250, "comments": 25,
                "title": "v0"}
    spec = {"name": "t", "snapshots": str(write_snapshots(tmp_path / "snaps.csv")), "fmt": "generic",
            "videos": str(tmp_path / "list.csv"), "required_horizons": [],
            "predict": [{"video_key": "local__v0", "snapshot": snapshot}]}
    return tmp_path / "ws", cfg, spec


async def test_pipeline_tab_shows_every_stage_and_the_prediction(
        pipeline_inputs: tuple[Path, Path, dict[str, Any]], live: Any) -> None:
    from engine.config import load_settings, with_workspace
    from engine.jobs import start_job
    from engine.workflow import Pipeline, PipelineSpec

    ws, cfg, spec = pipeline_inputs
    batch_id = Pipeline(ws, with_workspace(load_settings(cfg), str(ws)), PipelineSpec(**spec)).batch_id()
    assert batch_id is not None
    start_job(ws, "pipeline", {"spec": spec}, str(cfg))
    live.wait_until(lambda: (ws / "batches" / batch_id / "state.jsonl").exists(), 30, "the extraction batch")
    app = VidopsApp(ws, batch_id, config_path=str(cfg), refresh_hz=2.0, cursor_blink=False)
    async with app.run_test(size=(100, 30)) as pilot:
        dash = await live.wait_app(pilot, lambda: app.dashboard, 10, "the dashboard")
        dash.query_one("#tabs").active = "tab-pipeline"
        panel = dash.query_one(PipelinePanel)

        def ended() -> bool:
            v = panel.view
            return v is not None and (v.state == "failed" or (v.state == "finished" and bool(v.predictions)))

        await live.wait_app(pilot, ended, 60, "the pipeline to finish")
        await pilot.pause(0.1)
        view = panel.view
        assert view is not None
        assert view.state == "finished", view.error
        text = panel.render().plain
        for stage in ("extract", "dataset", "train", "predict"):
            assert view.stages[stage].status == "done", (stage, view.stages[stage])
            line = next(ln for ln in text.splitlines() if f" {stage} " in ln)
            assert line.startswith(" ".join(STAGE_LABELS["done"])), line
        assert f"batch {batch_id}" in text and "pipelines/t/dataset" in text and "model artifacts/t-" in text
        # The prediction, read from the file the pipeline wrote.
        pred_file = ws.resolve() / "pipelines" / "t" / "prediction_local__v0.json"
        doc = json.loads(pred_file.read_text())
        assert view.prediction_files == [str(pred_file)]
        assert "video v0 (local)" in text
        for per in doc["predictions"].values():
            for cell in per.values():
                assert fmt_cell(cell) in text
        assert load_prediction(str(pred_file)).table["views"]["7d"]["value"] == doc["predictions"]["views"]["7d"]["value"]
        # The Dataset and Training tabs followed the jobs the stages started.
        await live.wait_app(pilot, lambda: (dash.query_one(TrainingPanel).view or object) and
                            getattr(dash.query_one(TrainingPanel).view, "state", "") == "finished", 15,
                            "the training panel")
        ds = dash.query_one(DatasetPanel).view
        assert ds is not None and ds.job_id.startswith("dataset-") and ds.state == "finished" and ds.rows == 40
        tr = dash.query_one(TrainingPanel).view
        assert tr is not None and tr.job_id.startswith("train-") and tr.curves and tr.run_dir.endswith(
            Path(view.model).name)
