"""Helpers shared by visual modules: shots from cut_detection, per-shot aggregation, 1 Hz curves."""

from __future__ import annotations

import warnings

import numpy as np

from engine.extractors.base import ModuleResult


def shots(upstream: dict[str, ModuleResult], sample_index: np.ndarray) -> np.ndarray:
    """(s, 2) [first, last] frame of each shot; one shot spanning the samples without cuts."""
    cut = upstream.get("cut_detection")
    if cut is not None and cut.arrays.get("shots") is not None and len(cut.arrays["shots"]):
        return np.asarray(cut.arrays["shots"], np.int64).reshape(-1, 2)
    last = int(sample_index[-1]) if len(sample_index) else 0
    return np.asarray([[0, last]], np.int64)


def shot_of(sample_index: np.ndarray, shot_bounds: np.ndarray) -> np.ndarray:
    """Shot number of every sampled frame."""
    if not len(shot_bounds):
        return np.zeros(len(sample_index), np.int64)
    return np.clip(np.searchsorted(shot_bounds[:, 0], sample_index, side="right") - 1, 0, len(shot_bounds) - 1).astype(np.int64)


def per_shot_mean(values: np.ndarray, shot_ids: np.ndarray, n_shots: int) -> np.ndarray:
    """Mean of ``values`` (n,) or (n, d) per shot; NaN rows for shots without samples."""
    v = np.asarray(values, np.float64)
    out = np.full((n_shots, *v.shape[1:]), np.nan)
    for s in range(n_shots):
        m = shot_ids == s
        if m.any():
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns stay NaN
                out[s] = np.nanmean(v[m], axis=0)
    return out.astype(np.float32)


def frame_times(cut: ModuleResult, frames: np.ndarray, fps: float) -> np.ndarray:
    """Time (s) of each frame index in ``frames``, read from cut_detection's samples (every
    frame) rather than index / average fps, which is wrong for variable-frame-rate video; one
    past the last frame is the end of the video (last time + 1/fps)."""
    idx = np.asarray(cut.arrays["sample_index"], np.int64)
    t = np.asarray(cut.arrays["sample_time"], np.float64)
    ext = np.r_[t, (float(t[-1]) if t.size else 0.0) + 1.0 / max(fps, 1e-6)]
    return ext[np.clip(np.searchsorted(idx, np.asarray(frames, np.int64)), 0, len(ext) - 1)]


def n_seconds(duration_s: float) -> int:
    """Number of 1-second bins covering ``duration_s``: 3.0 s -> 3 (not 4), 3.05 s -> 4."""
    return max(1, int(np.ceil(duration_s - 1e-9)))


def per_second(values: np.ndarray, times: np.ndarray, duration_s: float) -> np.ndarray:
    """Mean of ``values`` in 1-second bins (bins without samples take the previous value)."""
    n = n_seconds(max(duration_s, float(times[-1]) if len(times) else 0.0))
    sums = np.bincount(np.minimum(times.astype(np.int64), n - 1), weights=values, minlength=n)
    counts = np.bincount(np.minimum(times.astype(np.int64), n - 1), minlength=n)
    out = np.zeros(n, np.float64)
    last = 0.0
    for i in range(n):
        if counts[i]:
            last = sums[i] / counts[i]
        out[i] = last
    return out.astype(np.float32)


def stats(x: np.ndarray) -> dict[str, float | None]:
    x = np.asarray(x, np.float64)
    x = x[np.isfinite(x)]
    if not x.size:
        return {"mean": None, "median": None, "std": None, "min": None, "max": None}
    return {"mean": round(float(x.mean()), 6), "median": round(float(np.median(x)), 6), "std": round(float(x.std()), 6),
            "min": round(float(x.min()), 6), "max": round(float(x.max()), 6)}
