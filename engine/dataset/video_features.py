"""Video features from the result store: pick the run per video, flatten it into named columns.

Naming (stable, documented in docs/dataset.md), for every component whose manifest entry has
``status == "done"``:

* numeric scalar in the manifest summary ``key`` -> ``<module>__<key>`` (booleans as 0/1;
  nested dicts are flattened with ``_``: ``probe.audio.sample_rate`` -> ``probe__audio_sample_rate``;
  strings and lists are not features);
* 0-d NPZ array ``a`` -> ``<module>__<a>``;
* 1-D NPZ array treated as an embedding (name contains ``emb`` or ``vector``, or listed in
  ``embedding_arrays`` as ``module.array``) with at most ``embedding_max_dim`` values ->
  ``<module>__<a>__000`` .. one column per component;
* any other 1-D numeric NPZ array is a per-frame series -> ``<module>__<a>__{n,mean,std,p10,p50,p90}``
  (NaN-aware; ``n`` counts finite values);
* 2-D array ``(frames, d)`` with ``d <= embedding_max_dim`` -> column means ``<module>__<a>__mean_000`` ..;
* anything else (non-numeric, larger, higher rank) is skipped and listed.

Characters outside ``[A-Za-z0-9_]`` in names become ``_``. Column order is lexicographic.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.atomic import read_npz
from engine.store import ResultStore, load_manifest

SERIES_STATS = ("n", "mean", "std", "p10", "p50", "p90")
_BAD = re.compile(r"[^A-Za-z0-9_]")


def _name(text: str) -> str:
    return _BAD.sub("_", str(text))


@dataclass(frozen=True)
class FeatureSettings:
    """The knobs of the aggregation; stored in dataset_meta.json so inference matches."""

    embedding_max_dim: int = 64
    embedding_arrays: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"embedding_max_dim": self.embedding_max_dim, "embedding_arrays": list(self.embedding_arrays)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> FeatureSettings:
        data = data or {}
        return cls(int(data.get("embedding_max_dim", 64)), tuple(data.get("embedding_arrays", ())))


@dataclass
class RunFeatures:
    """Flattened features of one run plus what was skipped and why."""

    values: dict[str, float] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    config_hash: str | None = None


def _flatten_summary(module: str, summary: Mapping[str, Any], prefix: str, out: dict[str, float]) -> None:
    for key in sorted(summary):
        value = summary[key]
        name = f"{prefix}_{_name(key)}" if prefix else _name(key)
        if isinstance(value, Mapping):
            _flatten_summary(module, value, name, out)
        elif isinstance(value, int | float):  # bool is an int: stored as 0/1
            out[f"{_name(module)}__{name}"] = float(value)


def _is_embedding(module: str, array: str, settings: FeatureSettings) -> bool:
    low = array.lower()
    return "emb" in low or "vector" in low or f"{module}.{array}" in settings.embedding_arrays


def series_stats(values: np.ndarray) -> dict[str, float]:
    """n/mean/std/p10/p50/p90 of the finite values (NaN when there are none)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0.0, "mean": math.nan, "std": math.nan, "p10": math.nan, "p50": math.nan, "p90": math.nan}
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    return {"n": float(v.size), "mean": float(v.mean()), "std": float(v.std()),
            "p10": float(p10), "p50": float(p50), "p90": float(p90)}


def _add_array(module: str, array: str, arr: np.ndarray, settings: FeatureSettings, out: RunFeatures) -> None:
    base = f"{_name(module)}__{_name(array)}"
    if arr.dtype.kind not in "biuf":
        out.skipped.append(f"{module}.{array}: dtype {arr.dtype} is not numeric")
        return
    a = arr.astype(np.float64)
    if a.ndim == 0:
        out.values[base] = float(a)
    elif a.ndim == 1 and _is_embedding(module, array, settings):
        if a.size > settings.embedding_max_dim:
            out.skipped.append(f"{module}.{array}: embedding of {a.size} > embedding_max_dim")
            return
        for i, x in enumerate(a):
            out.values[f"{base}__{i:03d}"] = float(x)
    elif a.ndim == 1:
        for stat, x in series_stats(a).items():
            out.values[f"{base}__{stat}"] = x
    elif a.ndim == 2 and a.shape[1] <= settings.embedding_max_dim:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column is a NaN feature, not news
            means = np.nanmean(a, axis=0) if a.shape[0] else np.full(a.shape[1], np.nan)
        for i, x in enumerate(means):
            out.values[f"{base}__mean_{i:03d}"] = float(x)
    else:
        out.skipped.append(f"{module}.{array}: shape {list(a.shape)} not aggregated")


def aggregate_run(run_path: str | Path, settings: FeatureSettings) -> RunFeatures:
    """Flatten every done component of the run at ``run_path`` (see the module docstring)."""
    out = RunFeatures()
    manifest = load_manifest(run_path)
    if not manifest:
        out.skipped.append(f"{run_path}: no readable manifest")
        return out
    out.config_hash = manifest.get("config_hash")
    components = manifest.get("components") or {}
    for module in sorted(components):
        entry = components[module] or {}
        if entry.get("status") != "done":
            continue
        _flatten_summary(module, entry.get("summary") or {}, "", out.values)
        npz = entry.get("npz")
        if npz:
            try:
                arrays = read_npz(Path(run_path) / npz)
            except (OSError, ValueError) as exc:
                out.skipped.append(f"{module}: cannot read {npz}: {exc}")
                continue
            for array in sorted(arrays):
                _add_array(module, array, arrays[array], settings, out)
    top_fps = manifest.get("analysis_fps")
    if isinstance(top_fps, int | float) and not isinstance(top_fps, bool):
        out.values["__analysis_fps"] = float(top_fps)
    return out


def duration_and_fps(values: Mapping[str, float]) -> tuple[float, float]:
    """``duration_sec`` from ``probe__duration_s``; ``fps`` = the analysis fps of the run.

    The analysis fps is the manifest's top-level ``analysis_fps``, else the first (sorted)
    ``<module>__analysis_fps`` summary value, else the probe's container fps.
    """
    duration = values.get("probe__duration_s", math.nan)
    fps = values.get("__analysis_fps")
    if fps is None:
        keys = sorted(k for k in values if k.endswith("__analysis_fps"))
        fps = values[keys[0]] if keys else values.get("probe__fps", math.nan)
    return float(duration), float(fps)


def feature_columns(values: Iterable[str]) -> list[str]:
    """The stable, sorted list of video-feature column names (internal keys excluded)."""
    return sorted(k for k in set(values) if not k.startswith("__"))


@dataclass
class RunSelection:
    runs: dict[tuple[str, str], Path]
    config_hash: str | None
    incomplete_or_other: int
    # (platform_id, video_id) -> config hashes of its complete runs under another config than the
    # one selected: a video with runs only there gets no video features (see other_config_videos)
    other_hashes: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    wanted_hash: str | None = None  # the hash asked for ("any" resolved), even when no run has it

    def other_config_videos(self, videos: Iterable[tuple[str, str]]) -> dict[str, int]:
        """{config_hash: videos} of the ``videos`` without a selected run that have complete runs
        under other config hashes (a video with several such hashes counts under each)."""
        counts: dict[str, int] = {}
        for key in set(videos):
            if key in self.runs:
                continue
            for chash in self.other_hashes.get(key, ()):
                counts[chash] = counts.get(chash, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def select_runs(store_root: str | Path | None, wanted_hash: str) -> RunSelection:
    """Newest complete run per (platform_id, video_id) whose config_hash is ``wanted_hash``.

    ``wanted_hash == "any"`` first picks the config_hash of the newest complete run in the
    store. Newest = largest ``created_at``, ties broken by run_id. A missing store gives none.
    """
    if store_root is None or not Path(store_root).is_dir():
        return RunSelection({}, None, 0)
    complete: list[tuple[float, str, str, str, str, Path]] = []
    other = 0
    for platform, video, run_id, path in ResultStore(store_root).iter_runs():
        m = load_manifest(path)
        if not m or m.get("status") != "complete":
            other += 1
            continue
        created = m.get("created_at")
        ts = float(created) if isinstance(created, int | float) else 0.0
        complete.append((ts, run_id, str(m.get("config_hash")), platform, video, path))
    if wanted_hash == "any":
        if not complete:
            return RunSelection({}, None, other)
        wanted_hash = max(complete, key=lambda r: (r[0], r[1]))[2]
    chosen: dict[tuple[str, str], tuple[float, str, Path]] = {}
    other_hashes: dict[tuple[str, str], set[str]] = {}
    for ts, run_id, chash, platform, video, path in complete:
        key = (platform, video)
        if chash != wanted_hash:
            other += 1
            other_hashes.setdefault(key, set()).add(chash)
            continue
        if key not in chosen or (ts, run_id) > chosen[key][:2]:
            chosen[key] = (ts, run_id, path)
    return RunSelection({k: v[2] for k, v in chosen.items()}, wanted_hash if chosen else None, other,
                        other_hashes, wanted_hash)
