"""``vidops predict --video``: extracts into the workspace result store once, then reuses the run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pandas as pd

from console.cli import main
from engine.atomic import atomic_write_json
from engine.config import load_settings
from engine.model.settings import ModelSettings
from engine.model.synthetic import write_synthetic
from engine.model.train import train
from engine.pipeline import settings_hash

ROOT = Path(__file__).resolve().parents[3]
SNAPSHOT = {"platform_id": "youtube", "video_id": "clip1", "snapshot_time": "2018-04-01T14:00:00Z",
            "published_at": "2018-03-31T20:00:00Z", "views": 5000, "likes": 300, "comments": 20}


def test_predict_video_extracts_then_reuses(tmp_path: Path, make_video: Callable[..., Path]) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[extract]\nmodules = []\n")  # probe only: this test is about the model's reuse logic
    ds = write_synthetic(tmp_path / "ds", n=300, seed=4)
    meta_path = ds / "dataset_meta.json"
    meta = json.loads(meta_path.read_text())
    meta["extractor_config_hash"] = settings_hash(load_settings(config))  # trained under this extract config
    atomic_write_json(meta_path, meta)
    model = tmp_path / "model"
    train(ds, ModelSettings(iterations=20, depth=3, task_type="cpu"), model)
    video = make_video("clip.avi")
    ws = tmp_path / "ws"
    argv = ["--workspace", str(ws), "--config", str(config), "predict", "--model", str(model), "--video", str(video),
            "--snapshot", json.dumps(SNAPSHOT)]
    assert main([*argv, "--out", str(tmp_path / "a.json")]) == 0
    manifests = list((ws / "result_store" / "youtube" / "clip1").glob("*/manifest.json"))
    assert len(manifests) == 1 and json.loads(manifests[0].read_text())["status"] == "complete"
    stamp = manifests[0].stat().st_mtime_ns
    assert main([*argv, "--out", str(tmp_path / "b.json")]) == 0
    assert manifests[0].stat().st_mtime_ns == stamp  # the complete run was reused, not redone
    a, b = (tmp_path / "a.json").read_bytes(), (tmp_path / "b.json").read_bytes()
    assert a == b
    doc = json.loads(a)
    jsonschema.validate(doc, json.loads((ROOT / "schemas" / "prediction.schema.json").read_text()))
    assert doc["run_id"] == manifests[0].parent.name
    assert not pd.isna(doc["features_used"]["probe__duration_s"])


def test_predict_video_refuses_other_extractor_config(tmp_path: Path, make_video: Callable[..., Path]) -> None:
    ds = write_synthetic(tmp_path / "ds", n=200, seed=5)  # extractor_config_hash "synthetic-extract"
    model = tmp_path / "model"
    train(ds, ModelSettings(iterations=10, depth=3, task_type="cpu"), model)
    rc = main(["--workspace", str(tmp_path / "ws"), "predict", "--model", str(model), "--video",
               str(make_video("clip.avi")), "--snapshot", json.dumps(SNAPSHOT)])
    assert rc == 2
    assert not (tmp_path / "ws" / "result_store").exists()  # refused before extracting
