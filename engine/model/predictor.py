"""Turning a model matrix into predictions: mean, sd, interval and confidence per row."""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class Ensemble:
    """The models of one target: ``members`` are ``RMSEWithUncertainty`` models (one per seed),
    ``point`` optional point models (e.g. loss MAE) whose averaged prediction replaces the mean.

    Mean = average of the members' means (or of the point models' predictions); variance =
    average of the members' variances + the variance of their means (the law of total
    variance for an equal mixture), so the seed-to-seed disagreement widens the interval.
    """

    members: list[CatBoostRegressor]
    point: list[CatBoostRegressor] = field(default_factory=list)


def _mean_var(model: CatBoostRegressor, pool: Pool, n: int) -> tuple[np.ndarray, np.ndarray]:
    out = np.asarray(model.predict(pool), dtype=float).reshape(n, -1)
    return out[:, 0], (out[:, 1] if out.shape[1] > 1 else np.ones(n))


def raw_predict(model: CatBoostRegressor | Ensemble, x: pd.DataFrame, spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """(mean, sd) of log1p(delta) from an ``RMSEWithUncertainty`` model or an :class:`Ensemble`."""
    ens = model if isinstance(model, Ensemble) else Ensemble([model])
    pool = make_pool(x, spec)
    pairs = [_mean_var(m, pool, len(x)) for m in ens.members]
    means = np.stack([p[0] for p in pairs])
    mean = means.mean(axis=0)
    var = np.stack([p[1] for p in pairs]).mean(axis=0) + means.var(axis=0)
    if ens.point:
        mean = np.stack([_mean_var(m, pool, len(x))[0] for m in ens.point]).mean(axis=0)
    return mean, np.sqrt(np.maximum(var, 1e-12))


def offset(x: pd.DataFrame, cal: dict[str, Any], base_params: dict[str, Any]) -> np.ndarray:
    """The baseline the model was trained on top of (zeros when it learnt log1p(delta) directly)."""
    name = cal.get("offset_baseline")
    if not name:
        return np.zeros(len(x))
    return baselines.predict(name, x, base_params[name])


def predict(model: CatBoostRegressor | Ensemble, x: pd.DataFrame, spec: FeatureSpec, cal: dict[str, Any],
            base_params: dict[str, Any]) -> Prediction:
    """Calibrated predictions; ``x`` is the prepared matrix (it holds the s1_* counters)."""
    mean, sd = raw_predict(model, x, spec)
    mean = mean + offset(x, cal, base_params)
    low, high = calibration.interval(mean, sd, cal)
    return Prediction(mean, sd, low, high, calibration.confidence(sd, cal))
