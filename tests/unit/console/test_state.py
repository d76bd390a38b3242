"""Console view state without Textual: incremental following, rows, filters, job views."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console.jobs_state import DatasetView, JobsFollower, TrainView
from console.state import BatchFollower, sort_alerts
from console.synthetic import T0, write_finished_batch, write_jobs
from engine.events import EventWriter

BATCH = "20260921-120000-abc123"


def test_follower_reads_incrementally_and_reports_only_changes(tmp_path: Path) -> None:
    root = write_finished_batch(tmp_path, n=20, running=2)
    f = BatchFollower(tmp_path, BATCH, alive=lambda *_: True, clock=lambda: T0 + 60)
    d = f.poll()
    assert d.first and len(d.rows) == 20 and len(d.order) == 20
    assert d.summary.counts["running"] == 2 and d.summary.state == "running"
    assert d.metrics is not None and d.metrics["gpu_note"].startswith("no NVIDIA GPU")
    offset = f.offset
    again = f.poll()
    assert not again.rows and not again.order and f.offset == offset  # nothing re-read
    with EventWriter(root / "state.jsonl") as w:
        w.write({"v": 1, "type": "video_succeeded", "ts": T0 + 61, "key": "local__v000019", "wall_s": 2.0})
    d3 = f.poll()
    assert list(d3.rows) == ["local__v000019"] and d3.rows["local__v000019"].status == "done"
    assert d3.summary.counts["running"] == 1 and d3.summary.per_min > 0


def test_dead_supervisor_means_interrupted(tmp_path: Path) -> None:
    write_finished_batch(tmp_path, n=5, running=1)
    d = BatchFollower(tmp_path, BATCH, alive=lambda *_: False).poll()
    assert d.summary.state == "interrupted" and not d.summary.alive


def test_row_filters_and_search(tmp_path: Path) -> None:
    write_finished_batch(tmp_path, n=14)
    rows = BatchFollower(tmp_path, BATCH, alive=lambda *_: False).poll().rows
    failed = sorted(k for k, r in rows.items() if r.matches("failed", ""))
    assert failed == ["local__v000006", "local__v000013"]
    assert sorted(k for k, r in rows.items() if r.matches("all", "not_video")) == failed
    assert len([r for r in rows.values() if r.matches("done", "")]) == 12  # done and skipped


def test_alerts_sorted_by_severity_then_newest() -> None:
    alerts = [{"severity": "warning", "ts": 3}, {"severity": "error", "ts": 1}, {"severity": "error", "ts": 2}]
    assert [a["ts"] for a in sort_alerts(alerts)] == [2, 1, 3]


def test_jobs_follower_folds_dataset_and_training(tmp_path: Path) -> None:
    jf = JobsFollower(tmp_path)
    assert jf.poll() == (None, None, False)
    write_jobs(tmp_path)
    jf.rescan_soon()
    ds, tr, changed = jf.poll()
    assert changed and isinstance(ds, DatasetView) and isinstance(tr, TrainView)
    assert ds.state == "finished" and ds.rows == 900 and ds.coverage["views"]["7d"] == 812
    assert tr.state == "finished" and set(tr.curves) == {"views_7d", "likes_7d"}
    assert tr.metrics["views_7d"]["baseline_mae"] == 0.74
    assert jf.poll()[2] is False  # followed from the offset: nothing new


def test_engine_never_imports_textual() -> None:
    code = ("import sys, engine.api, engine.state, engine.jobs, engine.supervisor, engine.monitor; "
            "sys.exit(1 if any(m == 'textual' or m.startswith('textual.') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[3]).returncode == 0


def test_jobs_follower_folds_the_pipeline_and_reads_its_prediction_once(tmp_path: Path) -> None:
    from console.synthetic import write_pipeline_job

    jf = JobsFollower(tmp_path)
    jf.poll()
    assert jf.pipeline is None
    write_pipeline_job(tmp_path)
    jf.rescan_soon()
    assert jf.poll()[2] is True
    pl = jf.pipeline
    assert pl is not None and pl.state == "finished" and pl.name == "demo" and pl.wall_s == 65.0
    assert [s.status for s in pl.stages.values()] == ["done", "done", "skipped", "done"]
    assert pl.stages["train"].detail["reason"].startswith("complete")
    assert pl.stages["dataset"].progress == "900 rows"
    assert len(pl.predictions) == 1 and pl.predictions[0].video_id == "bbb_5s"
    assert pl.predictions[0].table["views"]["7d"] == {"value": 18400, "low": 9100, "high": 45870, "confidence": 0.62}
    Path(pl.prediction_files[0]).unlink()
    assert jf.poll()[2] is False and jf.pipeline is pl and pl.predictions[0].video_id == "bbb_5s"  # read once


def test_pipeline_failure_marks_the_running_stage_failed() -> None:
    from console.jobs_state import PipelineView

    pl = PipelineView("pipeline-x")
    pl.apply({"type": "pipeline_stage", "ts": 1.0, "stage": "extract", "status": "skipped", "reason": "no video list"})
    pl.apply({"type": "pipeline_stage", "ts": 2.0, "stage": "dataset", "status": "running", "out": "/d"})
    pl.apply({"type": "job_failed", "ts": 5.0, "message": "ValueError: bad"})
    assert pl.state == "failed" and pl.error == "ValueError: bad" and pl.elapsed(100.0) == 4.0
    assert [s.status for s in pl.stages.values()] == ["skipped", "failed", "pending", "pending"]


def test_detach_message_names_a_non_default_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.commands.console_cmd import detach_message

    monkeypatch.chdir(tmp_path)
    assert detach_message("b1", "workspace").endswith("Re-attach with: vidops attach b1")
    assert detach_message("b1", tmp_path / "workspace").endswith("Re-attach with: vidops attach b1")
    assert detach_message("b1", tmp_path / "my ws").endswith(f"vidops --workspace '{tmp_path}/my ws' attach b1")
    # q says what happens next: a live batch goes on; an ended one has nothing to re-attach to
    assert detach_message("b1", "workspace", True) == "detached from batch b1; it keeps running. Re-attach with: vidops attach b1"
    assert detach_message("b1", "workspace", False) == (
        "left batch b1; no supervisor is running it ('vidops status b1' shows where it stands)")


def test_finished_training_draws_the_runs_full_learning_curves(tmp_path: Path) -> None:
    # a target that trained in under the 0.25 s progress throttle had one live point (iteration 10):
    # its chart page showed a legend and no line; the run's learning_curves.jsonl has every iteration
    import json

    from console.synthetic import _ev

    run_dir = tmp_path / "artifacts" / "run9"
    run_dir.mkdir(parents=True)
    job = tmp_path / "jobs" / "train-20260921T121000Z-000009"
    job.mkdir(parents=True)
    with EventWriter(job / "events.jsonl", fsync_interval_s=3600) as w:
        w.write(_ev("train_started", T0, run_id="run9", run_dir=str(run_dir), targets=["views_7d", "likes_7d"]))
        w.write(_ev("train_progress", T0 + 1, target="likes_7d", iteration=10, train_loss=0.8, val_loss=1.1))
        w.write(_ev("train_progress", T0 + 1, target="views_7d", iteration=10, train_loss=0.9, val_loss=1.2))
    jf = JobsFollower(tmp_path)
    tr = jf.poll()[1]
    assert tr is not None and tr.curves["views_7d"][0] == [10]  # live: one throttled point
    rows = [{"iteration": i, "target": t, "train_loss": 1.0 / (i + 1), "val_loss": None if t == "likes_7d" else 1.1}
            for t, n in (("views_7d", 1000), ("likes_7d", 57)) for i in range(n)]
    (run_dir / "learning_curves.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + "{torn\n")
    with EventWriter(job / "events.jsonl", fsync_interval_s=3600) as w:
        w.write(_ev("train_finished", T0 + 2, run_dir=str(run_dir), metrics={}, seconds=2.0))
    tr, changed = jf.poll()[1:]
    assert changed and tr is not None and tr.curves_loaded
    assert list(tr.curves) == ["likes_7d", "views_7d"]  # the live order
    its, train, val = tr.curves["views_7d"]
    assert its[0] == 0 and its[-1] == 999 and 300 <= len(its) <= 401 and val[-1] == 1.1
    its, train, val = tr.curves["likes_7d"]
    assert its == list(range(57)) and all(v != v for v in val)  # no validation: NaN, not drawn
    assert jf.poll()[2] is False  # read once
