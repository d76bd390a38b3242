"""CatBoost GPU training (skipped without a CUDA device)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from engine.model import device
from engine.model.settings import ModelSettings
from engine.model.train import train

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(device.cuda_devices() == 0, reason="CatBoost sees no CUDA device")]


def test_auto_trains_on_gpu(synth_dir: Path, tiny: ModelSettings, tmp_path: Path) -> None:
    events: list[dict] = []
    result = train(synth_dir, replace(tiny, task_type="auto"), tmp_path / "gpu", on_event=events.append)
    assert events[0]["task_type"] == "GPU"
    assert result.metrics["targets"]["views_7d"]["test"]["n"] > 0
    assert any(e["type"] == "train_progress" for e in events)  # replayed from the learning curve


def test_resolve_without_cuda_is_cpu_or_error() -> None:
    assert device.resolve("cpu") == "CPU"


def test_refit_on_gpu(synth_dir: Path, tiny: ModelSettings, tmp_path: Path) -> None:
    events: list[dict] = []
    result = train(synth_dir, replace(tiny, task_type="gpu", refit=True), tmp_path / "gpu-refit",
                   on_event=events.append)
    assert events[0]["task_type"] == "GPU"
    t = result.metrics["targets"]["views_7d"]
    assert t["refit"]["rows"] == t["rows"]["train"] + t["rows"]["validation"] and t["test"]["n"] > 0
