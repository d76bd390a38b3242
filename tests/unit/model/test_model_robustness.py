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
    result = train(ds, tiny, tmp_path / "run")
    assert "views_21d" in result.metrics["skipped"]
    assert not (tmp_path / "run" / "model_views_21d.cbm").exists()
    assert "views_21d" in (tmp_path / "run" / "report.md").read_text()
