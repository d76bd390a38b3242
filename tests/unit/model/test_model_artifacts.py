"""Model files as written by engine.model.artifacts."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from catboost import CatBoostRegressor

from engine.atomic import _current_umask
from engine.model.artifacts import save_model


def test_saved_model_gets_the_usual_file_mode(tmp_path: Path) -> None:
    model = CatBoostRegressor(iterations=2, verbose=False, allow_writing_files=False, thread_count=1)
    model.fit(np.arange(20, dtype=float).reshape(10, 2), np.arange(10, dtype=float))
    save_model(model, tmp_path / "m.cbm")
    assert os.stat(tmp_path / "m.cbm").st_mode & 0o777 == 0o666 & ~_current_umask()  # not mkstemp's 0600
    assert not [p for p in tmp_path.iterdir() if p.name != "m.cbm"]  # no temp file left
