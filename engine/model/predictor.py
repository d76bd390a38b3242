"""Turning a model matrix into predictions: mean, sd, interval and confidence per row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from catboost import CatBoostRegressor, Pool

from engine.model import baselines, calibration
from engine.model.data import FeatureSpec


def make_pool(x: pd.DataFrame, spec: FeatureSpec, y: np.ndarray | None = None) -> Pool:
    return Pool(x, label=y, cat_features=list(spec.categorical) or None, text_features=list(spec.text) or None)


@dataclass
class Prediction:
    mean: np.ndarray
    sd: np.ndarray
    low: np.ndarray
    high: np.ndarray
    confidence: np.ndarray


def raw_predict(model: CatBoostRegressor, x: pd.DataFrame, spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """(mean, sd) of log1p(delta) from an ``RMSEWithUncertainty`` model."""
    out = np.asarray(model.predict(make_pool(x, spec)), dtype=float).reshape(len(x), -1)
    mean = out[:, 0]
    var = out[:, 1] if out.shape[1] > 1 else np.ones(len(x))
    return mean, np.sqrt(np.maximum(var, 1e-12))


def offset(x: pd.DataFrame, cal: dict[str, Any], base_params: dict[str, Any]) -> np.ndarray:
    """The baseline the model was trained on top of (zeros when it learnt log1p(delta) directly)."""
    name = cal.get("offset_baseline")
    if not name:
        return np.zeros(len(x))
    return baselines.predict(name, x, base_params[name])


def predict(model: CatBoostRegressor, x: pd.DataFrame, spec: FeatureSpec, cal: dict[str, Any],
            base_params: dict[str, Any]) -> Prediction:
    """Calibrated predictions; ``x`` is the prepared matrix (it holds the s1_* counters)."""
    mean, sd = raw_predict(model, x, spec)
    mean = mean + offset(x, cal, base_params)
    low, high = calibration.interval(mean, sd, cal)
    return Prediction(mean, sd, low, high, calibration.confidence(sd, cal))
