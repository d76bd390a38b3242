"""Inference: one video's feature row -> predictions for every metric x horizon.

The feature row comes from the dataset builder's own :func:`engine.dataset.features.inference_row`
(same code path as training). Values are documented in docs/model.md ("Prediction document"):
``value`` is the predicted **delta** (growth of the counter over the horizon), ``total`` the
snapshot-1 counter plus that delta; ``low``/``high`` bound the calibrated interval of the
delta; ``confidence`` is P(|log1p error| <= tolerance). Output is deterministic: sorted keys,
fixed rounding, no wall-clock fields.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.model import predictor
from engine.model.artifacts import ModelRun
from engine.model.data import prepare
from engine.model.report import summary_of

PREDICTION_SCHEMA_VERSION = 1
VIDEO_FEATURE_SEP = "__"


class IncompatibleInput(ValueError):
    """The model cannot be applied to this input (extractor config or feature schema differs)."""


def uses_video_features(run: ModelRun) -> bool:
    return any(VIDEO_FEATURE_SEP in c for c in run.spec.columns)


def check_extractor_hash(run: ModelRun, config_hash: str | None, where: str) -> None:
    """Refuse a result-store run made under another extractor config than the training data's."""
    expected = str(run.config.get("run", {}).get("extractor_config_hash", ""))
    if expected and config_hash != expected:
        raise IncompatibleInput(
            f"{where} was extracted with config_hash {config_hash!r} but model {run.run_id} was trained on "
            f"extractor config_hash {expected!r}; re-extract with the training config or retrain"
        )


def feature_row(run: ModelRun, snapshot1: dict[str, Any], result_run_dir: str | None,
                channel_history: dict[str, Any] | None = None) -> dict[str, Any]:
    from engine.dataset.features import inference_row

    validate_snapshot(snapshot1)
    row = dict(inference_row(snapshot1, result_run_dir, run.meta, channel_history))
    missing = [c for c in run.spec.columns if c not in row]
    if missing:
        raise IncompatibleInput(f"feature schema differs from model {run.run_id}: inference_row lacks {missing[:5]}")
    return row


def _num(value: Any) -> float | None:
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _round_feature(value: Any) -> Any:
    if isinstance(value, str):
        return value
    x = _num(value)
    return None if x is None else float(f"{x:.6g}")


def _count(log_value: float) -> int:
    return int(round(max(0.0, math.expm1(max(log_value, 0.0)))))


def predict_rows(run: ModelRun, rows: list[dict[str, Any]]) -> dict[str, dict[str, np.ndarray]]:
    """{target name: {mean, low, high, confidence}} for a list of feature rows."""
    x = prepare(pd.DataFrame(rows), run.spec)
    out: dict[str, dict[str, np.ndarray]] = {}
    for target in run.targets:
        p = predictor.predict(run.model(target), x, run.spec, run.calibration[target.name], run.baselines[target.name])
        out[target.name] = {"mean": p.mean, "low": p.low, "high": p.high, "confidence": p.confidence}
    return out


def model_info(run: ModelRun) -> dict[str, Any]:
    cfg = run.config.get("run", {})
    return {
        "run_id": run.run_id,
        "trained_at": run.info.get("trained_at"),
        "dataset_hash": cfg.get("dataset_content_hash"),
        "extractor_config_hash": cfg.get("extractor_config_hash"),
        "metrics": {name: summary_of(s) for name, s in sorted(run.metrics.get("targets", {}).items())},
    }


def build_document(run: ModelRun, snapshot1: dict[str, Any], row: dict[str, Any], preds: dict[str, dict[str, np.ndarray]],
                   i: int, result_run_id: str | None, platform_id: str | None) -> dict[str, Any]:
    predictions: dict[str, dict[str, Any]] = {}
    for target in run.targets:
        p = preds[target.name]
        base = _num(snapshot1.get(target.metric))
        mean, low, high = float(p["mean"][i]), float(p["low"][i]), float(p["high"][i])
        value = _count(mean)
        entry = {"value": value, "low": _count(low), "high": _count(high),
                 "confidence": round(float(p["confidence"][i]), 4), "log1p_delta": round(mean, 4),
                 "total": None if base is None else int(round(base)) + value}
        predictions.setdefault(target.metric, {})[target.key] = entry
    return {
        "schema_version": PREDICTION_SCHEMA_VERSION,
        "platform_id": platform_id,
        "video_id": str(snapshot1.get("video_id", "")),
        "run_id": result_run_id,
        "predictions": predictions,
        "features_used": {c: _round_feature(row.get(c)) for c in sorted(run.spec.columns)},
        "model_info": model_info(run),
    }


def predict_one(run: ModelRun, snapshot1: dict[str, Any], result_run_dir: str | None = None,
                result_run_id: str | None = None, platform_id: str | None = None,
                channel_history: dict[str, Any] | None = None) -> dict[str, Any]:
    row = feature_row(run, snapshot1, result_run_dir, channel_history)
    return build_document(run, snapshot1, row, predict_rows(run, [row]), 0, result_run_id, platform_id)


def render(document: dict[str, Any], indent: int | None = 2) -> str:
    """Deterministic JSON text (sorted keys, no NaN)."""
    sep = (",", ":") if indent is None else (",", ": ")
    return json.dumps(document, sort_keys=True, indent=indent, separators=sep, ensure_ascii=False, allow_nan=False)


class InvalidSnapshot(ValueError):
    """A snapshot-1 object the dataset builder would have skipped (missing or malformed key)."""


REQUIRED_COUNTERS = ("views", "likes", "comments")
SNAPSHOT_EXAMPLE = ('{"video_id": "abc", "snapshot_time": "2018-03-20T14:00:00Z", "views": 250000, '
                    '"likes": 12000, "comments": 900}')


def _counter_problem(value: Any) -> str | None:
    """Why ``value`` is not a count (the builder's rule: a finite number >= 0, numeric text allowed)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return f"expected a number >= 0, got {json.dumps(value, default=str)}"
    try:
        x = float(value)
    except ValueError:
        return f"expected a number >= 0, got {json.dumps(value, default=str)}"
    if not math.isfinite(x) or x < 0:
        return f"expected a number >= 0, got {value!r}"
    return None


def _time_problem(value: Any) -> str | None:
    if isinstance(value, datetime):  # the Python API may pass datetimes / pandas Timestamps
        return None if not pd.isna(value) else "got NaT"
    # A number would be read as nanoseconds since 1970: only text is taken as a time.
    if not isinstance(value, str) or not value.strip():
        return f"expected an ISO 8601 time such as \"2018-03-20T14:00:00Z\", got {json.dumps(value, default=str)}"
    try:
        ts = pd.Timestamp(value.strip())
    except ValueError:
        ts = pd.NaT
    return None if not pd.isna(ts) else f"not an ISO 8601 time: {value!r}"


def validate_snapshot(snapshot: dict[str, Any]) -> None:
    """Refuse what the dataset builder would skip, rather than predict from NaN features.

    Required: ``snapshot_time`` and the counters ``views``, ``likes``, ``comments``; optional
    ``dislikes`` and ``published_at`` are checked when present and not null/empty."""
    problems = [f"missing key {k!r}" for k in ("snapshot_time", *REQUIRED_COUNTERS) if k not in snapshot]
    for key in REQUIRED_COUNTERS + ("dislikes",):
        if key in snapshot and (key != "dislikes" or snapshot[key] not in (None, "")):
            why = _counter_problem(snapshot[key])
            problems += [f"{key}: {why}"] if why else []
    for key in ("snapshot_time", "published_at"):
        if key in snapshot and (key != "published_at" or snapshot[key] not in (None, "")):
            why = _time_problem(snapshot[key])
            problems += [f"{key}: {why}"] if why else []
    if problems:
        raise InvalidSnapshot("; ".join(problems) + f" (a snapshot looks like {SNAPSHOT_EXAMPLE})")


def load_snapshot(value: str) -> dict[str, Any]:
    """``--snapshot``: inline JSON object or a path to a JSON file; validated with :func:`validate_snapshot`."""
    text = value.strip()
    inline = text.startswith(("{", "["))
    where = "inline JSON" if inline else value
    if not inline:
        text = Path(value).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidSnapshot(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise InvalidSnapshot(f"{where}: expected a JSON object, got {type(data).__name__}")
    validate_snapshot(data)
    return data
