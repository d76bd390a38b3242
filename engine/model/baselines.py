"""Reference predictors reported next to the model, from the :data:`BASELINES` registry.

* ``median``: the training median of log1p(delta).
* ``loglinear``: log1p(delta) = a * log1p(counter at snapshot 1) + b, least squares on the
  training rows (Szabo-Huberman style). The counter is the same metric's snapshot-1 value
  (``s1_views`` for views, ``s1_likes`` for likes, ...), falling back to ``s1_views``.

Parameters are plain JSON (``baselines.json`` in a run) so evaluation on another dataset
uses the coefficients fitted on the model's training data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from engine.model.data import counter_column

Fit = Callable[[pd.DataFrame, np.ndarray, str], dict[str, Any]]
Predict = Callable[[pd.DataFrame, dict[str, Any]], np.ndarray]


def _median_fit(frame: pd.DataFrame, y: np.ndarray, metric: str) -> dict[str, Any]:
    return {"value": float(np.median(y)) if len(y) else 0.0}


def _median_predict(frame: pd.DataFrame, params: dict[str, Any]) -> np.ndarray:
    return np.full(len(frame), params["value"], dtype=float)


def _counter(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float) if column in frame.columns \
        else np.full(len(frame), np.nan)
    return np.log1p(np.clip(values, 0.0, None))


def _loglinear_fit(frame: pd.DataFrame, y: np.ndarray, metric: str) -> dict[str, Any]:
    column = counter_column(metric) if counter_column(metric) in frame.columns else "s1_views"
    x = _counter(frame, column)
    ok = np.isfinite(x) & np.isfinite(y)
    fill = float(np.median(x[ok])) if ok.any() else 0.0
    if ok.sum() >= 2 and np.ptp(x[ok]) > 0:
        a, b = np.polyfit(x[ok], y[ok], 1)
    else:
        a, b = 0.0, float(np.median(y)) if len(y) else 0.0
    return {"column": column, "a": float(a), "b": float(b), "fill_log1p": fill}


def _loglinear_predict(frame: pd.DataFrame, params: dict[str, Any]) -> np.ndarray:
    x = _counter(frame, params["column"])
    x = np.where(np.isfinite(x), x, params["fill_log1p"])
    return params["a"] * x + params["b"]


BASELINES: dict[str, tuple[Fit, Predict]] = {
    "median": (_median_fit, _median_predict),
    "loglinear": (_loglinear_fit, _loglinear_predict),
}


def fit_all(frame: pd.DataFrame, y: np.ndarray, metric: str) -> dict[str, dict[str, Any]]:
    return {name: fit(frame, y, metric) for name, (fit, _) in BASELINES.items()}


def predict(name: str, frame: pd.DataFrame, params: dict[str, Any]) -> np.ndarray:
    return BASELINES[name][1](frame, params)
