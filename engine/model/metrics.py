"""Scores on the log1p scale: MAE, RMSE, Spearman, interval coverage, by age bucket.

Everything is rounded to 6 decimals and NaN-free (``None`` where undefined), so metrics
files are valid JSON and identical between identical runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.stats import spearmanr

AGE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("0-24h", -np.inf, 24.0),
    ("24-48h", 24.0, 48.0),
    ("48-72h", 48.0, 72.0),
    ("72-168h", 72.0, 168.0),
    ("168h+", 168.0, np.inf),
)


def _r(value: float | None) -> float | None:
    if value is None or not np.isfinite(value):
        return None
    return round(float(value), 6)


def spearman(y: np.ndarray, p: np.ndarray) -> float | None:
    if len(y) < 3 or np.ptp(y) == 0 or np.ptp(p) == 0:
        return None
    return _r(float(spearmanr(y, p).statistic))


def point_scores(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    if len(y) == 0:
        return {"n": 0, "mae": None, "rmse": None, "spearman": None}
    err = p - y
    return {"n": int(len(y)), "mae": _r(np.mean(np.abs(err))), "rmse": _r(np.sqrt(np.mean(err**2))),
            "spearman": spearman(y, p)}


def score(
    y: np.ndarray,
    pred: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    confidence: np.ndarray,
    age_hours: np.ndarray,
    baselines: dict[str, np.ndarray],
    tolerance: float,
) -> dict[str, Any]:
    """All metrics of one target on one split."""
    out = point_scores(y, pred)
    inside = (y >= low) & (y <= high)
    out["coverage80"] = _r(inside.mean()) if len(y) else None
    hit = np.abs(pred - y) <= tolerance
    out["within_tolerance"] = _r(hit.mean()) if len(y) else None
    out["mean_confidence"] = _r(confidence.mean()) if len(y) else None
    out["brier_confidence"] = _r(np.mean((confidence - hit) ** 2)) if len(y) else None
    out["baselines"] = {name: point_scores(y, p) for name, p in sorted(baselines.items())}
    for name in sorted(baselines):
        out[f"baseline_{name}_mae"] = out["baselines"][name]["mae"]
    out["baseline_mae"] = out["baselines"].get("loglinear", {}).get("mae")
    buckets: dict[str, Any] = {}
    for label, lo, hi in AGE_BUCKETS:
        sel = (age_hours >= lo) & (age_hours < hi)
        b = point_scores(y[sel], pred[sel])
        b["baselines"] = {name: point_scores(y[sel], p[sel])["mae"] for name, p in sorted(baselines.items())}
        buckets[label] = b
    out["by_age"] = buckets
    return out


def reliability(confidence: np.ndarray, hit: np.ndarray, bins: int = 5) -> list[dict[str, Any]]:
    """Calibration table: predicted confidence vs observed hit rate in equal-width bins."""
    rows = []
    edges = np.linspace(0.0, 1.0, bins + 1)
    for i in range(bins):
        sel = (confidence >= edges[i]) & ((confidence < edges[i + 1]) if i < bins - 1 else (confidence <= 1.0))
        rows.append({"bin": f"{edges[i]:.1f}-{edges[i + 1]:.1f}", "n": int(sel.sum()),
                     "mean_confidence": _r(confidence[sel].mean()) if sel.any() else None,
                     "observed": _r(hit[sel].mean()) if sel.any() else None})
    return rows
