"""Reading a built dataset (``dataset.parquet`` + ``dataset_meta.json``) and shaping model inputs.

Missing values are handled one documented way (docs/model.md, "Missing values"):
numeric features keep NaN (±inf becomes NaN) and CatBoost's ``nan_mode='Min'`` sends them
to the low side of every split, whose borders are quantised from the training rows only;
categorical features become strings with ``"__missing__"`` for absent values; text features
become strings (tags' ``|`` separators turned into spaces) with ``""`` for absent values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MISSING_CATEGORY = "__missing__"
DATASET_SCHEMA_VERSION = 1  # engine.dataset.builder.SCHEMA_VERSION (not imported: keeps this module light)
DEFAULT_HORIZONS = (7, 14, 21)
DEFAULT_METRICS = ("views", "likes", "comments")


@dataclass(frozen=True)
class Target:
    """One (metric, horizon) regression target."""

    metric: str
    horizon: int

    @property
    def name(self) -> str:
        return f"{self.metric}_{self.horizon}d"

    @property
    def column(self) -> str:
        return f"target_{self.name}"

    @property
    def mask(self) -> str:
        return f"mask_{self.name}"

    @property
    def key(self) -> str:
        return f"{self.horizon}d"


class DatasetError(ValueError):
    """A dataset directory that cannot be used (damaged, empty, other schema version)."""


@dataclass
class Dataset:
    frame: pd.DataFrame
    meta: dict[str, Any]
    path: Path


def load_dataset(directory: str | Path) -> Dataset:
    """Read a dataset directory; raises ``FileNotFoundError`` / :class:`DatasetError` naming the file."""
    path = Path(directory)
    meta_path, parquet = path / "dataset_meta.json", path / "dataset.parquet"
    for p in (meta_path, parquet):
        if not p.is_file():
            raise FileNotFoundError(f"{p} not found (expected a directory built by 'vidops dataset build')")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{meta_path}: not valid JSON ({exc}); rebuild the dataset with 'vidops dataset build'") from None
    if not isinstance(meta, dict):
        raise DatasetError(f"{meta_path}: expected a JSON object; rebuild the dataset with 'vidops dataset build'")
    version = meta.get("schema_version")
    if version != DATASET_SCHEMA_VERSION:
        raise DatasetError(f"{meta_path}: schema_version {version!r} is not supported (this vidops reads "
                           f"{DATASET_SCHEMA_VERSION}); rebuild the dataset with this version's 'vidops dataset build'")
    try:
        frame = pd.read_parquet(parquet)
    except (OSError, ValueError) as exc:  # pyarrow's errors for a truncated or foreign file are both
        raise DatasetError(f"{parquet}: cannot read ({exc})") from None
    missing = [c for c in ("channel_key", "snapshot1_time", "video_id") if c not in frame.columns]
    if missing:
        raise DatasetError(f"{parquet}: missing required columns {missing}")
    # A meta from another build (files copied by hand, an interrupted rebuild by an older vidops)
    # would otherwise train on all-NaN columns without a word.
    listed = [c for key in ("feature_columns", "target_columns", "mask_columns") for c in meta.get(key) or []]
    absent = [c for c in listed if c not in frame.columns]
    if absent:
        raise DatasetError(f"{meta_path} lists {len(absent)} column(s) that {parquet.name} lacks ({', '.join(absent[:5])}"
                           f"{', ...' if len(absent) > 5 else ''}): the two files are from different builds; "
                           "rebuild the dataset")
    if frame.empty:
        raise DatasetError(f"{parquet}: the dataset has no rows; see {path / 'report.md'} for what the build "
                           "skipped or dropped")
    frame["snapshot1_time"] = pd.to_datetime(frame["snapshot1_time"], utc=True)
    return Dataset(frame=frame, meta=meta, path=path)


def targets_of(meta: dict[str, Any]) -> list[Target]:
    metrics = meta.get("metrics") or list(DEFAULT_METRICS)
    horizons = meta.get("horizons_days") or list(DEFAULT_HORIZONS)
    return [Target(str(m), int(h)) for m in metrics for h in horizons]


@dataclass(frozen=True)
class FeatureSpec:
    """Which columns the model sees, and how each kind is prepared."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    text: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical, *self.text]

    def to_json(self) -> dict[str, Any]:
        return {"numeric": list(self.numeric), "categorical": list(self.categorical), "text": list(self.text),
                "columns": self.columns, "missing_category": MISSING_CATEGORY}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureSpec:
        return cls(tuple(data["numeric"]), tuple(data["categorical"]), tuple(data["text"]))


def feature_spec(meta: dict[str, Any], use_text: bool) -> FeatureSpec:
    features = list(meta.get("feature_columns", []))
    text_cols = [c for c in meta.get("text_columns", []) if c]
    cats = [c for c in meta.get("categorical_columns", []) if c in features and c not in text_cols]
    numeric = [c for c in features if c not in cats and c not in text_cols]
    text = text_cols if use_text else []
    return FeatureSpec(tuple(numeric), tuple(cats), tuple(text))


def _text(series: pd.Series) -> pd.Series:
    values = series.astype(object).where(series.notna(), "")
    return pd.Series([str(v).replace("|", " ").replace('"', "") for v in values], index=series.index, dtype=object)


def prepare(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """The model matrix: columns in ``spec`` order, prepared as the module docstring says."""
    out: dict[str, pd.Series] = {}
    for col in spec.numeric:
        if col in frame.columns:
            values = pd.to_numeric(frame[col], errors="coerce").astype("float64")
            out[col] = values.replace([np.inf, -np.inf], np.nan)
        else:
            out[col] = pd.Series(np.nan, index=frame.index, dtype="float64")
    for col in spec.categorical:
        series = frame[col] if col in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        obj = series.astype(object)
        out[col] = pd.Series([MISSING_CATEGORY if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                              else str(v) for v in obj], index=frame.index, dtype=object)
    for col in spec.text:
        series = frame[col] if col in frame.columns else pd.Series("", index=frame.index, dtype=object)
        out[col] = _text(series)
    return pd.DataFrame(out, index=frame.index)[spec.columns]


def usable_text(frame: pd.DataFrame, spec: FeatureSpec) -> FeatureSpec:
    """Drop text columns with no words in ``frame`` (CatBoost cannot build an empty dictionary)."""
    keep = tuple(c for c in spec.text if c in frame.columns and (frame[c].astype(str).str.strip() != "").sum() >= 2)
    return FeatureSpec(spec.numeric, spec.categorical, keep)


def has_target(frame: pd.DataFrame, target: Target) -> np.ndarray:
    """Rows whose mask is 1 and whose target is a finite number (nullable masks count NA as 0)."""
    if target.mask not in frame.columns or target.column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    mask = pd.to_numeric(frame[target.mask], errors="coerce").fillna(0).to_numpy(dtype=float) == 1
    y = pd.to_numeric(frame[target.column], errors="coerce").to_numpy(dtype=float)
    return np.asarray(mask & np.isfinite(y))


def target_values(frame: pd.DataFrame, target: Target) -> np.ndarray:
    return pd.to_numeric(frame[target.column], errors="coerce").to_numpy(dtype=float)


def counter_column(metric: str) -> str:
    """The snapshot-1 counter of a metric (``s1_views``, ``s1_likes``, ``s1_comments``)."""
    return f"s1_{metric}"
