"""Synthetic batch logs with fixed timestamps, for snapshots, tests and the scale bench.

Writes a real batch directory (``batch.toml``, ``videos.jsonl``) and a ``state.jsonl`` made with
:class:`engine.events.EventWriter`, as a finished supervisor would have left it. Nothing here
starts a process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.events import EVENT_SCHEMA_VERSION, EventWriter

T0 = 1_790_000_000.0  # a fixed start time (2026-09-21 UTC) so screenshots do not depend on the clock


def _ev(type_: str, ts: float, **fields: Any) -> dict[str, Any]:
    return {"v": EVENT_SCHEMA_VERSION, "type": type_, "ts": round(ts, 3), **fields}


def make_batch_dir(workspace: Path, batch_id: str, n: int) -> Path:
    """A batch directory with ``n`` listed videos (paths need not exist)."""
    import tomli_w

    root = workspace / "batches" / batch_id
    (root / "logs").mkdir(parents=True, exist_ok=True)
    doc = {"batch": {"batch_id": batch_id, "list": "synthetic.csv", "created_at": T0, "vidops_version": "test",
                     "config_hash": "synthetic", "videos": n}, "config": {}}
    (root / "batch.toml").write_bytes(tomli_w.dumps(doc).encode())
    with (root / "videos.jsonl").open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"key": f"local__v{i:06d}", "row": i + 1, "video_path": f"/data/v{i:06d}.mp4",
                                 "platform_id": "local", "video_id": f"v{i:06d}"}) + "\n")
    return root


def write_finished_batch(workspace: Path, batch_id: str = "20260921-120000-abc123", n: int = 40,
                         fail_every: int = 7, skip_every: int = 11, running: int = 0,
                         end_state: str = "finished") -> Path:
    """A batch whose every video finished (some failed, some skipped) with fixed timestamps.

    ``running`` > 0 leaves that many videos started but not finished and no end event
    (an interrupted batch). Returns the batch directory.
    """
    root = make_batch_dir(workspace, batch_id, n)
    t = T0
    with EventWriter(root / "state.jsonl", fsync_interval_s=3600) as w:
        w.write(_ev("batch_started", t, batch_id=batch_id, total=n, config_hash="synthetic"))
        for i in range(n):
            w.write(_ev("video_queued", t, key=f"local__v{i:06d}", platform_id="local", video_id=f"v{i:06d}"))
        for wid in range(2):
            w.write(_ev("worker_started", t + 0.5, worker=wid, pid=4000 + wid))
        for i in range(n):
            key = f"local__v{i:06d}"
            t += 1.5
            if skip_every and i % skip_every == skip_every - 1:
                w.write(_ev("video_skipped", t, key=key, reason="already_done", run_id=f"r{i}"))
                continue
            w.write(_ev("video_started", t, key=key, worker=i % 2, pid=4000 + i % 2, run_id=f"r{i}", attempt=1))
            w.write(_ev("video_progress", t + 0.5, key=key, stage="probe", fraction=0.5))
            if i >= n - running:
                continue
            if fail_every and i % fail_every == fail_every - 1:
                w.write(_ev("video_failed", t + 1.0, key=key, error_class="not_video", transient=False,
                            message=f"cannot decode /data/v{i:06d}.mp4: no video stream", attempt=1, final=True))
            else:
                w.write(_ev("video_succeeded", t + 1.0, key=key, run_id=f"r{i}", wall_s=1.0,
                            components={"probe": "done"}))
        w.write(_ev("metrics", t + 1.0, cpu_pct=37.5, cpu_per_core=[50.0, 25.0], ram_used_pct=41.2,
                    ram_used_gb=3.3, ram_total_gb=8.0, disk_free_gb=120.5,
                    workers={"0": {"pid": 4000, "rss_mb": 180.0, "cpu_pct": 95.0},
                             "1": {"pid": 4001, "rss_mb": 175.0, "cpu_pct": 80.0}},
                    gpus=[], gpu_note="no NVIDIA GPU / NVML not found"))
        w.write(_ev("alert", t + 1.1, kind="error_rate", severity="error",
                    message="error rate 14% over the last 40 finished videos (threshold 10%)"))
        w.write(_ev("alert", t + 1.2, kind="low_disk", severity="warning",
                    message="low disk space: 120.5 GiB free in the workspace (threshold 200 GiB)"))
        if not running:
            for wid in range(2):
                w.write(_ev("worker_exited", t + 1.5, worker=wid))
            kind = "batch_finished" if end_state == "finished" else "batch_stopped"
            w.write(_ev(kind, t + 2.0, state=end_state))
    from engine.state import replay

    counts = replay(root / "state.jsonl").counts()
    (root / "progress.json").write_text(json.dumps({"batch_id": batch_id, "updated_at": t + 2.0, "counts": counts,
                                                    "state": end_state if not running else "running"}))
    return root


def write_jobs(workspace: Path) -> None:
    """A finished dataset build and a finished two-target training run, with fixed timestamps."""
    t = T0 + 100
    ds = workspace / "jobs" / "dataset-20260921T120500Z-000001"
    ds.mkdir(parents=True, exist_ok=True)
    cov = {"views": {"7d": 812, "30d": 640}, "likes": {"7d": 790, "30d": 602}}
    with EventWriter(ds / "events.jsonl", fsync_interval_s=3600) as w:
        w.write(_ev("dataset_started", t, snapshots="data/snapshots.csv", format="trending", out="datasets/ds1"))
        w.write(_ev("dataset_progress", t + 1, stage="features", rows_done=900, rows_total=900))
        w.write(_ev("dataset_finished", t + 2, rows=900, coverage=cov, duration_s=12.4, out="datasets/ds1"))
        w.write(_ev("job_finished", t + 2, kind="dataset", out="datasets/ds1", rows=900))
    tr = workspace / "jobs" / "train-20260921T121000Z-000002"
    tr.mkdir(parents=True, exist_ok=True)
    with EventWriter(tr / "events.jsonl", fsync_interval_s=3600) as w:
        targets = ["views_7d", "likes_7d"]
        w.write(_ev("train_started", t + 10, run_id="run1", run_dir="artifacts/run1", targets=targets, rows=900))
        for j, target in enumerate(targets):
            for it in range(0, 200, 10):
                loss = 2.0 / (1 + it / 40) + 0.3 + 0.1 * j
                w.write(_ev("train_progress", t + 11 + it / 100, target=target, iteration=it,
                            train_loss=round(loss, 4), val_loss=round(loss * 1.08 + 0.05, 4)))
            w.write(_ev("train_target_done", t + 14 + j, target=target,
                        metrics={"split": "test", "n": 180, "mae": 0.61 + 0.05 * j, "rmse": 0.82 + 0.05 * j,
                                 "spearman": 0.71 - 0.04 * j, "coverage80": 0.79, "baseline_mae": 0.74 + 0.03 * j}))
        w.write(_ev("train_finished", t + 16, run_dir="artifacts/run1", metrics={}, seconds=6.0))


def write_pipeline_job(workspace: Path, batch_id: str = "20260921-120000-abc123") -> Path:
    """A finished ``pipeline`` job (extract done, dataset done, train skipped, predict done) and its
    prediction file, with fixed timestamps; paths in the log are absolute like the engine's."""
    ws = workspace.resolve()
    t = T0 + 200
    root = ws / "pipelines" / "demo"
    root.mkdir(parents=True, exist_ok=True)
    pred = root / "prediction_local__bbb_5s.json"
    values = {"views": (18_400, 9_100, 41_700), "likes": (730, 310, 1_900), "comments": (64, 20, 210)}
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for metric, (value, low, high) in values.items():
        for k, h in enumerate((7, 14, 21)):
            f = 1.0 + 0.45 * k
            table.setdefault(metric, {})[f"{h}d"] = {
                "value": int(value * f), "low": int(low * f), "high": int(high * f * 1.1),
                "confidence": round(0.62 - 0.07 * k, 4), "log1p_delta": 0.0, "total": None}
    pred.write_text(json.dumps({"schema_version": 1, "platform_id": "local", "video_id": "bbb_5s",
                                "run_id": "r1", "predictions": table, "features_used": {}, "model_info": {}},
                               sort_keys=True, indent=2) + "\n")
    job_id = "pipeline-20260921T121500Z-000003"
    job = ws / "jobs" / job_id
    job.mkdir(parents=True, exist_ok=True)
    dataset, model = str(root / "dataset"), str(ws / "artifacts" / "demo-4f1c2a9e0b7d")
    with EventWriter(job / "events.jsonl", fsync_interval_s=3600) as w:
        def stage(ts: float, name: str, status: str, **fields: Any) -> None:
            w.write(_ev("pipeline_stage", ts, job_id=job_id, pipeline="demo", stage=name, status=status, **fields))

        stage(t, "extract", "running", batch_id=batch_id)
        stage(t + 62.5, "extract", "done", batch_id=batch_id, exit_code=1)
        stage(t + 62.6, "dataset", "running", out=dataset)
        w.write(_ev("dataset_progress", t + 63, job_id=job_id, stage="features", rows_done=900, rows_total=900))
        w.write(_ev("dataset_finished", t + 64.1, job_id=job_id, rows=900, coverage={}, duration_s=1.5, out=dataset))
        stage(t + 64.2, "dataset", "done", out=dataset)
        stage(t + 64.3, "train", "skipped", reason="complete for the same dataset and config", run_dir=model)
        stage(t + 65.0, "predict", "done", files=[str(pred)])
        w.write(_ev("pipeline_finished", t + 65.0, job_id=job_id, pipeline="demo", workspace=str(ws),
                    stages={}, batch_id=batch_id, dataset=dataset, model=model, predictions=[str(pred)], wall_s=65.0))
        w.write(_ev("job_finished", t + 65.0, job_id=job_id, kind="pipeline", summary={}))
    return job
