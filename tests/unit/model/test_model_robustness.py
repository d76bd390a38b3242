"""Edge cases: nullable masks, GPU refusal falling back to the CPU per target, too few rows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.model import device
from engine.model.data import Target, has_target
from engine.model.settings import ModelSettings
from engine.model.synthetic import write_synthetic
from engine.model.train import train


def test_has_target_handles_nullable_masks_and_nan_targets() -> None:
    frame = pd.DataFrame({"mask_views_7d": pd.array([1, None, 0, 1], dtype="Int8"),
                          "target_views_7d": [1.0, 2.0, 3.0, np.nan]})
    assert has_target(frame, Target("views", 7)).tolist() == [True, False, False, False]
    assert not has_target(frame, Target("likes", 7)).any()  # absent columns: no rows


def test_gpu_refusal_falls_back_to_cpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny: ModelSettings) -> None:
    if device.cuda_devices() > 0:
        pytest.skip("a real GPU is present")
    ds = write_synthetic(tmp_path / "ds", n=200, seed=7)
    monkeypatch.setattr(device, "resolve", lambda _t: "GPU")  # CatBoost will refuse: no CUDA here
    events: list[dict] = []
    result = train(ds, replace(tiny, iterations=10), tmp_path / "run", on_event=events.append)
    fallbacks = [e for e in events if e["type"] == "train_device_fallback"]
    assert fallbacks and result.metrics["targets"]
    assert events[-1]["type"] == "train_finished"


def test_targets_without_rows_are_skipped_and_reported(tmp_path: Path, tiny: ModelSettings) -> None:
    ds = write_synthetic(tmp_path / "ds", n=200, seed=8)
    frame = pd.read_parquet(ds / "dataset.parquet")
    frame["mask_views_21d"] = np.int8(0)
    frame.to_parquet(ds / "dataset.parquet", index=False)
    events: list[dict] = []
    result = train(ds, tiny, tmp_path / "run", on_event=events.append)
    assert "views_21d" in result.metrics["skipped"]
    # the console learns it live (its Training tab says which targets were not trained, and why)
    skipped = [e for e in events if e["type"] == "train_target_skipped"]
    assert skipped == [{"type": "train_target_skipped", "target": "views_21d",
                        "reason": result.metrics["skipped"]["views_21d"]}]
    assert events[-1]["type"] == "train_finished" and events[-1]["skipped"] == result.metrics["skipped"]
    assert not (tmp_path / "run" / "model_views_21d.cbm").exists()
    assert "views_21d" in (tmp_path / "run" / "report.md").read_text()


def _snapshot_files(run_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(run_dir.iterdir())}


def test_interrupted_retrain_leaves_the_previous_run_whole(tmp_path: Path, tiny: ModelSettings) -> None:
    ds = write_synthetic(tmp_path / "ds", n=200, seed=9)
    run_dir = tmp_path / "runs" / "run"
    train(ds, tiny, run_dir)
    before = _snapshot_files(run_dir)

    events: list[dict] = []

    def interrupt_after_first_target(event: dict) -> None:
        events.append(event)
        if event["type"] == "train_target_done":
            raise KeyboardInterrupt  # what Ctrl-C does in the middle of the loop

    with pytest.raises(KeyboardInterrupt):
        train(ds, replace(tiny, iterations=25), run_dir, on_event=interrupt_after_first_target)
    # the first target's new models were written, but not into the run: it is the old one, byte for byte
    assert _snapshot_files(run_dir) == before
    assert [p.name for p in run_dir.parent.iterdir()] == ["run"]  # no staging directory left behind
    assert events[-1] == {"type": "train_failed", "message": "interrupted"}

    result = train(ds, replace(tiny, iterations=25), run_dir)  # the rerun replaces the old run
    assert result.metrics["targets"] and _snapshot_files(run_dir) != before
    assert [p.name for p in run_dir.parent.iterdir()] == ["run"]


def test_out_dir_with_other_files_is_refused(tmp_path: Path, tiny: ModelSettings) -> None:
    ds = write_synthetic(tmp_path / "ds", n=200, seed=10)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a model run"):
        train(ds, tiny, out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_unusable_datasets_are_refused_with_the_file_named(tmp_path: Path, tiny: ModelSettings) -> None:
    import json

    ds = write_synthetic(tmp_path / "ds", n=200, seed=11)
    meta_path = ds / "dataset_meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps({**meta, "schema_version": 99}))
    with pytest.raises(ValueError, match=r"dataset_meta.json: schema_version 99 is not supported"):
        train(ds, tiny, tmp_path / "r1")
    meta_path.write_text("{broken")
    with pytest.raises(ValueError, match=r"dataset_meta.json: not valid JSON"):
        train(ds, tiny, tmp_path / "r2")
    meta_path.write_text(json.dumps(meta))
    frame = pd.read_parquet(ds / "dataset.parquet")
    frame.iloc[:0].to_parquet(ds / "dataset.parquet", index=False)  # what a build that kept no row writes
    with pytest.raises(ValueError, match=r"dataset.parquet: the dataset has no rows"):
        train(ds, tiny, tmp_path / "r3")
    assert not (tmp_path / "r3").exists()


def test_dataset_schema_version_matches_the_builder() -> None:
    from engine.dataset.builder import SCHEMA_VERSION
    from engine.model.data import DATASET_SCHEMA_VERSION

    assert DATASET_SCHEMA_VERSION == SCHEMA_VERSION


def test_train_warns_about_targets_scored_on_too_few_rows() -> None:
    from engine.model.report import warnings_of

    metrics = {"targets": {"views_7d": {"validation": {"n": 1}, "test": None},  # the IN aux file's situation
                           "likes_7d": {"validation": {"n": 120}, "test": {"n": 90}}}}
    assert warnings_of(metrics) == [
        "views_7d: no test row, so its quality is not measured",
        "views_7d: intervals and confidence calibrated on 1 validation row(s) (fewer than 15): do not rely on them"]


def test_meta_and_table_from_different_builds_are_refused(tmp_path: Path, tiny: ModelSettings) -> None:
    ds = write_synthetic(tmp_path / "ds", n=200, seed=12)
    frame = pd.read_parquet(ds / "dataset.parquet")
    frame.drop(columns=["s1_views"]).to_parquet(ds / "dataset.parquet", index=False)
    with pytest.raises(ValueError, match=r"dataset_meta.json lists 1 column\(s\) that dataset.parquet lacks \(s1_views\)"):
        train(ds, tiny, tmp_path / "run")


def test_a_constant_target_is_skipped_not_a_crash(tmp_path: Path, tiny: ModelSettings) -> None:
    ds = write_synthetic(tmp_path / "ds", n=200, seed=13)
    frame = pd.read_parquet(ds / "dataset.parquet")
    frame["target_likes_7d"] = np.log1p(10.0)  # every video gained exactly 10 likes
    frame.to_parquet(ds / "dataset.parquet", index=False)
    result = train(ds, tiny, tmp_path / "run")
    assert "the training target is constant" in result.metrics["skipped"]["likes_7d"]
    assert "views_7d" in result.metrics["targets"]


def test_out_dir_with_run_like_names_and_other_files_is_refused(tmp_path: Path, tiny: ModelSettings) -> None:
    ds = write_synthetic(tmp_path / "ds", n=200, seed=14)
    project = tmp_path / "project"  # a user's directory that happens to hold a config.toml
    project.mkdir()
    (project / "config.toml").write_text("[model]\n")
    (project / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a model run"):
        train(ds, tiny, project)
    assert sorted(p.name for p in project.iterdir()) == ["config.toml", "notes.txt"]
