"""Interval and confidence calibration, fitted on the validation split and stored as JSON.

The model predicts a mean ``mu`` and a variance ``var`` of log1p(delta) (CatBoost
``RMSEWithUncertainty``); ``sd = sqrt(var)``.

* Interval: ``mu ± s · z · sd`` with ``z`` the normal quantile of the interval level and
  ``s`` the scale that makes validation coverage equal the level (searched on a grid).
* Confidence: the raw probability ``P(|err| <= tol) = erf(tol / (s · sd · sqrt 2))`` mapped
  through an isotonic regression fitted on validation hits (grouped into equal-count bins of
  at least 15 rows, so a handful of rows cannot pin the map at 0 or 1); the map is stored as its
  thresholds (``x``, ``y``) and applied by linear interpolation - no pickle.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.special import erf
from scipy.stats import norm
from sklearn.isotonic import IsotonicRegression

MIN_BIN = 15
MAX_BINS = 20
_SCALES = np.exp(np.linspace(np.log(0.2), np.log(5.0), 161))


def z_of(level: float) -> float:
    return float(norm.ppf(0.5 + level / 2.0))


def fit_interval_scale(y: np.ndarray, mu: np.ndarray, sd: np.ndarray, level: float) -> float:
    if len(y) == 0:
        return 1.0
    z = z_of(level)
    cover = np.array([np.mean(np.abs(y - mu) <= s * z * sd) for s in _SCALES])
    return float(_SCALES[int(np.argmin(np.abs(cover - level)))])


def raw_confidence(sd: np.ndarray, scale: float, tolerance: float) -> np.ndarray:
    sigma = np.maximum(scale * sd, 1e-9)
    return np.asarray(erf(tolerance / (sigma * math.sqrt(2.0))))


def _bins(raw: np.ndarray, hit: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equal-count bins of at least MIN_BIN rows (by raw confidence): mean raw, hit rate, count.

    Fitting the isotonic map on bins rather than single rows keeps a few validation rows from
    pinning the ends of the map at 0 or 1.
    """
    order = np.argsort(raw, kind="mergesort")
    n_bins = max(1, min(MAX_BINS, len(raw) // MIN_BIN))
    groups = np.array_split(order, n_bins)
    return (np.array([raw[g].mean() for g in groups]), np.array([hit[g].mean() for g in groups]),
            np.array([len(g) for g in groups], dtype=float))


def fit(y: np.ndarray, mu: np.ndarray, sd: np.ndarray, level: float, tolerance: float,
        offset_baseline: str | None = None) -> dict[str, Any]:
    """Calibration map for one target (plain JSON); ``mu`` includes any baseline offset."""
    scale = fit_interval_scale(y, mu, sd, level)
    raw = raw_confidence(sd, scale, tolerance)
    hit = (np.abs(y - mu) <= tolerance).astype(float)
    if len(y) >= 2:
        bx, by, bw = _bins(raw, hit)
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(bx, by, sample_weight=bw)
        xs, ys = iso.X_thresholds_.tolist(), iso.y_thresholds_.tolist()
    else:
        xs, ys = [0.0, 1.0], [0.0, 1.0]
    return {"offset_baseline": offset_baseline, "level": level, "z": z_of(level), "interval_scale": scale, "tolerance": tolerance,
            "isotonic_x": [round(v, 9) for v in xs], "isotonic_y": [round(v, 9) for v in ys]}


def interval(mu: np.ndarray, sd: np.ndarray, cal: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    half = cal["interval_scale"] * cal["z"] * sd
    return mu - half, mu + half


def confidence(sd: np.ndarray, cal: dict[str, Any]) -> np.ndarray:
    raw = raw_confidence(sd, cal["interval_scale"], cal["tolerance"])
    xs, ys = cal["isotonic_x"], cal["isotonic_y"]
    if len(xs) == 1:
        return np.full(len(sd), ys[0])
    return np.interp(raw, xs, ys)
