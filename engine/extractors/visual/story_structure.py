"""``story_structure``: an energy curve over time, the hook, the peak and change-point segments.

Energy (1 Hz, 0..1) = mean of the available normalised signals: motion (video_pacing
``motion_per_second`` / its 95th percentile, clipped to 1), cut density (transitions in a
3-s window / 3) and, when the audio ``loudness`` module produced a loudness-over-time array,
loudness mapped from -60..-10 LUFS to 0..1. ``energy_sources`` in the summary says which were
used (motion only for videos without audio). ``hook_strength`` = mean energy of the first 3 s
divided by the video's mean energy; ``peak_position`` = time of the energy maximum / duration;
segments come from a binary-segmentation change-point search on the energy curve (up to
``max_segments``; a split must lower the squared error by ``min_gain``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from engine.extractors.base import ArraySpec, Module, ModuleResult, Requirements, SkipModule
from engine.extractors.visual.common import frame_times


def loudness_curve(result: Any, seconds: int) -> np.ndarray | None:
    """Loudness per second from the loudness module's arrays, or None if none is usable."""
    if result is None:
        return None
    arrays = result.arrays
    for key in sorted(arrays, key=lambda k: ("short" not in k, "momentary" not in k)):
        a = np.asarray(arrays[key])
        if a.ndim != 1 or a.size < 2 or a.dtype.kind != "f" or not any(s in key for s in ("short", "momentary")):
            continue
        tkey = next((k for k in arrays if "time" in k and np.asarray(arrays[k]).shape == a.shape), None)
        t = np.asarray(arrays[tkey], np.float64) if tkey else np.linspace(0, seconds, a.size, endpoint=False)
        grid = np.arange(seconds) + 0.5
        vals = np.interp(grid, t, np.where(np.isfinite(a), a, -70.0))
        return np.clip((vals + 60.0) / 50.0, 0.0, 1.0)
    return None


def _segments(x: np.ndarray, max_segments: int, min_gain: float) -> list[int]:
    """Change points (start indices of segments after the first) by binary segmentation."""
    bounds = [0, len(x)]
    for _ in range(max_segments - 1):
        best = (0.0, -1)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            seg = x[a:b]
            if len(seg) < 4:
                continue
            total = ((seg - seg.mean()) ** 2).sum()
            for k in range(2, len(seg) - 1):
                gain = total - ((seg[:k] - seg[:k].mean()) ** 2).sum() - ((seg[k:] - seg[k:].mean()) ** 2).sum()
                if gain > best[0]:
                    best = (gain, a + k)
        if best[1] < 0 or best[0] < min_gain * max(len(x), 1):
            break
        bounds = sorted([*bounds, best[1]])
    return bounds[1:-1]


class StoryStructure(Module):
    name = "story_structure"
    version = "3"  # 2: cut density of clips shorter than 3 s; 3: transitions at their frame times (VFR)
    defaults: ClassVar[dict[str, Any]] = {"hook_seconds": 3.0, "max_segments": 6, "min_gain": 0.01}
    outputs: ClassVar[dict[str, ArraySpec]] = {
        "energy": ArraySpec("float32", ("t",), doc="energy per second 0..1"),
        "change_points_s": ArraySpec("float32", ("k",), doc="segment boundaries in seconds"),
    }
    summary_keys = ("hook_strength", "peak_position", "energy_sources")

    def requirements(self) -> Requirements:
        return Requirements(needs=("cut_detection", "video_pacing"), optional=("loudness",))

    def finish(self) -> ModuleResult:
        up = self.inputs.upstream
        pacing, cut = up.get("video_pacing"), up.get("cut_detection")
        if pacing is None or cut is None:
            raise SkipModule("video_pacing/cut_detection output is not available")
        motion = np.asarray(pacing.arrays["motion_per_second"], np.float64)
        n = len(motion)
        scale = np.percentile(motion, 95) if n else 1.0
        signals = {"motion": np.clip(motion / max(scale, 1e-6), 0, 1)}
        fps = self.inputs.info.fps or 25.0
        trans = frame_times(cut, np.concatenate([cut.arrays["hard_cuts"], cut.arrays["gradual"][:, 0]]), fps)
        counts = np.bincount(np.minimum(trans.astype(np.int64), n - 1), minlength=n) if n else np.zeros(0)
        # full[1:n+1] is the centred 3-second window for any n (mode="same" returns 3 values when n < 3).
        signals["cuts"] = np.clip(np.convolve(counts, np.ones(3), mode="full")[1:n + 1] / 3.0, 0, 1)
        loud = loudness_curve(up.get("loudness"), n)
        if loud is not None:
            signals["loudness"] = loud
        energy = np.mean(np.stack(list(signals.values())), axis=0) if n else np.zeros(0)
        hook_n = max(1, int(round(self.params["hook_seconds"])))
        mean = float(energy.mean()) if n else 0.0
        cps = _segments(energy, int(self.params["max_segments"]), float(self.params["min_gain"])) if n else []
        summary = {
            "energy_sources": sorted(signals),
            "hook_strength": round(float(energy[:hook_n].mean()) / mean, 6) if mean > 0 else None,
            "energy_mean": round(mean, 6),
            "peak_position": round(float(np.argmax(energy) + 0.5) / n, 6) if n else None,
            "n_segments": len(cps) + 1,
        }
        return ModuleResult({"energy": energy.astype(np.float32), "change_points_s": np.asarray(cps, np.float32)}, summary)
