"""Scoring a trained run on another dataset (``vidops evaluate``).

Uses the run's own feature spec, calibration and baseline coefficients (fitted on the
model's training data: train + validation with ``refit``), so the numbers are comparable with
the run's test metrics.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.model import baselines, metrics, predictor
from engine.model.artifacts import ModelRun
from engine.model.data import has_target, load_dataset, prepare, target_values

SPLIT_NAME = "evaluation"


class EvaluationError(ValueError):
    """The dataset cannot be scored with this model (schema mismatch, no rows)."""


def parse_since(since: str) -> pd.Timestamp:
    """``--since`` as a UTC timestamp (naive = UTC); text pandas reads as NaT ("nan", "") is refused too."""
    try:
        cut = pd.Timestamp(since.strip())
    except ValueError:
        cut = pd.NaT
    if pd.isna(cut):
        raise EvaluationError(f"--since: not a date: {since!r} (expected e.g. 2018-03-01 or 2018-03-01T14:00:00Z)")
    return cut.tz_localize("UTC") if cut.tzinfo is None else cut.tz_convert("UTC")


def evaluate(run: ModelRun, dataset_dir: str | Path, since: str | None = None) -> dict[str, Any]:
    ds = load_dataset(dataset_dir)
    frame = ds.frame
    missing = [c for c in run.spec.columns if c not in frame.columns]
    if missing:
        raise EvaluationError(f"dataset lacks model feature columns {missing[:5]} (feature schema differs)")
    if since is not None:
        cut = parse_since(since)
        frame = frame.loc[frame["snapshot1_time"] >= cut]
    x = prepare(frame, run.spec)
    ages = pd.to_numeric(frame.get("video_age_hours_at_snapshot1", pd.Series(np.nan, index=frame.index)),
                         errors="coerce").to_numpy(dtype=float)
    tol = float(run.config.get("model", {}).get("confidence_tolerance", 0.5))
    targets: dict[str, Any] = {}
    for target in run.targets:
        if target.column not in frame.columns:
            continue
        y_all = target_values(frame, target)
        rows = np.flatnonzero(has_target(frame, target))
        if len(rows) == 0:
            targets[target.name] = {"metric": target.metric, "horizon_days": target.horizon, SPLIT_NAME: None}
            continue
        params_by_name = run.baselines[target.name]
        sub = x.iloc[rows]
        pred = predictor.predict(run.model(target), sub, run.spec, run.calibration[target.name], params_by_name)
        base = {name: baselines.predict(name, sub, params) for name, params in params_by_name.items()}
        score = metrics.score(y_all[rows], pred.mean, pred.low, pred.high, pred.confidence, ages[rows], base, tol)
        targets[target.name] = {"metric": target.metric, "horizon_days": target.horizon, SPLIT_NAME: score}
    if not any((t.get(SPLIT_NAME) or {}).get("n") for t in targets.values()):
        times = ds.frame["snapshot1_time"]
        raise EvaluationError(
            f"{ds.path}: no row with a target of the model's targets ({', '.join(t.name for t in run.targets)})"
            + (f" at or after --since {since}" if since is not None else "")
            + f"; the dataset's snapshot 1 times run from {times.min():%Y-%m-%d} to {times.max():%Y-%m-%d}")
    return {"run_id": run.run_id, "dataset": str(ds.path), "dataset_content_hash": str(ds.meta.get("content_hash") or ""),
            "since": since, "targets": targets}


JSON_KEYS = ("mae", "rmse", "spearman", "n", "baseline_mae", "baseline_median_mae", "coverage80")


def as_json(result: dict[str, Any]) -> dict[str, Any]:
    """``metrics[metric][horizon] = {mae, rmse, spearman, n, baseline_mae, coverage80, ...}``."""
    out: dict[str, dict[str, Any]] = {}
    for scores in result["targets"].values():
        s = scores.get(SPLIT_NAME) or {"n": 0}
        entry = {k: s.get(k) for k in JSON_KEYS}
        entry["n"] = int(s.get("n") or 0)
        entry["by_age"] = {k: {"n": v["n"], "mae": v["mae"]} for k, v in (s.get("by_age") or {}).items()}
        out.setdefault(scores["metric"], {})[f"{scores['horizon_days']}d"] = entry
    return {"run_id": result["run_id"], "dataset_content_hash": result["dataset_content_hash"],
            "since": result["since"], "metrics": out}
