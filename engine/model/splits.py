"""Train/validation/test splits, chosen by name from the :data:`SPLITTERS` registry.

A splitter labels every row ``train``, ``validation`` or ``test``. The channel-group
constraint (on by default) then moves no row between splits: each channel belongs to the
split of its earliest video (by snapshot-1 time, ties broken by video_id), and its rows in
other splits are dropped (labelled ``dropped``) and counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.model.data import Target, has_target
from engine.model.settings import ModelSettings, parse_cut

SPLITS = ("train", "validation", "test")
DROPPED = "dropped"

Splitter = Callable[[pd.DataFrame, ModelSettings], np.ndarray]


def _cut_time(times: pd.Series, value: str | float) -> pd.Timestamp:
    kind, cut = parse_cut(value)
    if kind == "date":
        return pd.Timestamp(cut)
    ns = np.sort(times.astype("datetime64[ns, UTC]").astype("int64").to_numpy())
    q = cut if isinstance(cut, float) else 0.5
    k = min(len(ns) - 1, max(0, int(np.floor(q * (len(ns) - 1)))))  # the "lower" quantile
    return pd.Timestamp(int(ns[k]), tz="UTC")


def time_split(frame: pd.DataFrame, settings: ModelSettings) -> np.ndarray:
    """train < cut1 <= validation < cut2 <= test, on ``snapshot1_time``."""
    times = frame["snapshot1_time"]
    cut1, cut2 = _cut_time(times, settings.cut1), _cut_time(times, settings.cut2)
    labels = np.where(times < cut1, "train", np.where(times < cut2, "validation", "test"))
    return labels.astype(object)


def _stable_unit(key: str) -> float:
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF


def age_split(frame: pd.DataFrame, settings: ModelSettings) -> np.ndarray:
    """Young videos train; older ones go to validation or test by a stable hash of the channel."""
    age = pd.to_numeric(frame["video_age_hours_at_snapshot1"], errors="coerce").to_numpy(dtype=float)
    unit = np.array([_stable_unit(str(k)) for k in frame["channel_key"]])
    rest = np.where(unit < settings.age_validation_fraction, "validation", "test")
    return np.where(age < settings.age_threshold_hours, "train", rest).astype(object)


SPLITTERS: dict[str, Splitter] = {"time": time_split, "age": age_split}


def channel_groups(frame: pd.DataFrame, labels: np.ndarray) -> np.ndarray:
    """Each channel keeps only the split of its earliest video; other rows become ``dropped``."""
    order = frame.assign(_label=labels).sort_values(["snapshot1_time", "video_id"], kind="mergesort")
    home = order.groupby("channel_key", sort=False)["_label"].first()
    own = frame["channel_key"].map(home).to_numpy(dtype=object)
    return np.where(own == labels, labels, DROPPED).astype(object)


@dataclass
class SplitResult:
    labels: np.ndarray  # one of SPLITS or DROPPED per row
    summary: dict[str, Any]

    def mask(self, name: str) -> np.ndarray:
        return np.asarray(self.labels == name)


def make_split(frame: pd.DataFrame, settings: ModelSettings, targets: list[Target]) -> SplitResult:
    try:
        splitter = SPLITTERS[settings.split]
    except KeyError:
        raise ValueError(f"unknown split {settings.split!r} (known: {', '.join(SPLITTERS)})") from None
    raw = splitter(frame, settings)
    labels = channel_groups(frame, raw) if settings.channel_groups else raw
    summary: dict[str, Any] = {
        "method": settings.split,
        "channel_groups": settings.channel_groups,
        "rows": {name: int((labels == name).sum()) for name in (*SPLITS, DROPPED)},
        "dropped_by_channel_constraint": int((labels == DROPPED).sum()),
        "channels": {name: int(frame.loc[labels == name, "channel_key"].nunique()) for name in SPLITS},
        "per_target": {},
    }
    if settings.split == "time":
        times = frame["snapshot1_time"]
        summary["cut1"] = _cut_time(times, settings.cut1).isoformat()
        summary["cut2"] = _cut_time(times, settings.cut2).isoformat()
    for target in targets:
        has = has_target(frame, target)
        summary["per_target"][target.name] = {name: int((has & (labels == name)).sum()) for name in SPLITS}
    return SplitResult(labels=labels, summary=summary)
