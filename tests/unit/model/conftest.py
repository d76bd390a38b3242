"""Fixtures of the model tests: a small synthetic dataset and one tiny trained run."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.model.settings import ModelSettings
from engine.model.synthetic import write_synthetic

TINY = ModelSettings(iterations=40, early_stopping_rounds=20, depth=4, learning_rate=0.2, task_type="cpu",
                     progress_every=5, progress_min_interval_s=0.0)


@pytest.fixture(scope="session")
def tiny() -> ModelSettings:
    return TINY


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic(tmp_path_factory.mktemp("synth") / "ds", n=500, seed=1)


@pytest.fixture(scope="session")
def trained(synth_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    from engine.model.train import train

    events: list[dict] = []
    run_dir = tmp_path_factory.mktemp("runs") / "run-a"
    train(synth_dir, TINY, run_dir, on_event=events.append)
    return run_dir, events
