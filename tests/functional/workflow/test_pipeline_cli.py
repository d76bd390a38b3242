"""`vidops pipeline` on user data: every stage runs, then only what changed runs again."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from support.batches import vidops
from support.snapshots import write_snapshots

CONFIG = """
[extract]
modules = []
[model]
iterations = {iterations}
early_stopping_rounds = 10
depth = 3
learning_rate = 0.3
task_type = "cpu"
"""


def stages(stdout: str) -> dict[str, str]:
    out = {}
    for line in stdout.splitlines():
        if line.startswith("== "):
            name, status = line[3:].split(": ", 1)
            out[name] = status.split(" ")[0]
    return out


def test_pipeline_stages_resume_and_rerun_only_what_changed(tmp_path: Path, make_video: Callable[..., Path]) -> None:
    make_video("v0.avi", frames=12)
    (tmp_path / "list.csv").write_text("video_path\nv0.avi\n")
    snaps = write_snapshots(tmp_path / "snaps.csv")
    (tmp_path / "s1.json").write_text(json.dumps({"platform_id": "local", "video_id": "v0", "views": 5000,
                                                 "likes": 250, "comments": 25, "snapshot_time": "2026-02-20T12:00:00Z",
                                                 "published_at": "2026-02-20T06:00:00Z", "title": "v0"}))
    cfg, ws = tmp_path / "p.toml", tmp_path / "ws"
    cfg.write_text(CONFIG.format(iterations=30))
    args = ("pipeline", "--videos", str(tmp_path / "list.csv"), "--snapshots", str(snaps), "--format", "generic",
            "--required-horizons", "none", "--name", "mine", "--predict", "local__v0", str(tmp_path / "s1.json"),
            "--no-ui")
    first = vidops(ws, cfg, *args, timeout=300, check=0)
    assert stages(first.stdout) == {"extract": "done", "dataset": "done", "train": "done", "predict": "done"}
    pred = ws / "pipelines" / "mine" / "prediction_local__v0.json"
    doc = json.loads(pred.read_text())
    assert doc["video_id"] == "v0" and doc["run_id"]  # features came from the batch's result-store run
    # Same inputs and config: nothing but the (cheap, deterministic) prediction runs.
    again = vidops(ws, cfg, *args, timeout=300, check=0)
    assert stages(again.stdout) == {"extract": "skipped", "dataset": "skipped", "train": "skipped", "predict": "done"}
    assert json.loads(pred.read_text()) == doc
    # A model setting changed: only training (and prediction) run again.
    cfg.write_text(CONFIG.format(iterations=40))
    third = vidops(ws, cfg, *args, timeout=300, check=0)
    assert stages(third.stdout) == {"extract": "skipped", "dataset": "skipped", "train": "done", "predict": "done"}
    # New snapshot data: the dataset is rebuilt, the batch is not.
    write_snapshots(snaps, videos=42)
    fourth = vidops(ws, cfg, *args, timeout=300, check=0)
    assert stages(fourth.stdout) == {"extract": "skipped", "dataset": "done", "train": "done", "predict": "done"}
    # A --predict key that names no video of the batch is refused (it would predict without video features).
    typo = [a if a != "local__v0" else "local__v9" for a in args]
    refused = vidops(ws, cfg, *typo, timeout=300, check=2)
    assert "local__v9" in refused.stderr and "local__v0" in refused.stderr
    assert not (ws / "pipelines" / "mine" / "prediction_local__v9.json").exists()
    # Bad input names the file.
    bad = vidops(ws, cfg, "pipeline", "--snapshots", str(tmp_path / "nope.csv"), "--no-ui", check=2)
    assert "nope.csv" in bad.stderr
