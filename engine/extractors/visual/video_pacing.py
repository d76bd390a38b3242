"""``video_pacing``: shot-length statistics, cuts per minute and motion intensity over time.

Reads cut_detection (no frames of its own). Units: shot lengths in seconds; ``cuts_per_minute``
hard cuts (+ gradual transitions) per minute of video; ``motion`` per second = mean absolute
frame difference (0..1, cut_detection's ``pixel_diff`` with cut frames removed);
``pace_trend`` = slope of shot length against shot start (s per s; < 0: cutting faster).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from engine.extractors.base import ArraySpec, Module, ModuleResult, Requirements, SkipModule
from engine.extractors.visual.common import frame_times, per_second, stats


class VideoPacing(Module):
    name = "video_pacing"
    version = "2"  # 2: shot lengths from frame times (variable frame rate); no extra 1 s bin
    outputs: ClassVar[dict[str, ArraySpec]] = {
        "shot_lengths_s": ArraySpec("float32", ("s",)),
        "motion_per_second": ArraySpec("float32", ("t",)),
    }
    summary_keys = ("cuts_per_minute", "shot_length_mean_s", "motion_mean")

    def requirements(self) -> Requirements:
        return Requirements(needs=("cut_detection",))

    def finish(self) -> ModuleResult:
        cut = self.inputs.upstream.get("cut_detection")
        if cut is None:
            raise SkipModule("cut_detection output is not available")
        info = self.inputs.info
        times = np.asarray(cut.arrays["sample_time"], np.float64)
        fps = info.fps or (len(times) / max(info.duration_s, 1e-6))
        duration = max(info.duration_s, float(times[-1]) + 1.0 / max(fps, 1e-6) if len(times) else 0.0)
        shots = cut.arrays["shots"]
        starts = frame_times(cut, shots[:, 0], fps) if len(shots) else np.zeros(0)
        lengths = (frame_times(cut, shots[:, 1] + 1, fps) - starts).astype(np.float32) if len(shots) \
            else np.zeros(0, np.float32)
        motion = np.asarray(cut.arrays["pixel_diff"], np.float64).copy()
        cut_pos = np.searchsorted(cut.arrays["sample_index"], cut.arrays["hard_cuts"])
        motion[np.clip(cut_pos, 0, max(len(motion) - 1, 0))] = np.nan
        ok = np.isfinite(motion)
        per_s = per_second(motion[ok], times[ok], duration) if ok.any() else np.zeros(1, np.float32)
        n_trans = len(cut.arrays["hard_cuts"]) + len(cut.arrays["gradual"])
        trend = None
        if len(shots) >= 3:
            trend = round(float(np.polyfit(starts - starts[0], lengths, 1)[0]), 6)
        st = stats(lengths)
        summary = {
            "cuts_per_minute": round(n_trans / max(duration / 60.0, 1e-6), 4),
            "shot_length_mean_s": st["mean"], "shot_length_median_s": st["median"], "shot_length_std_s": st["std"],
            "shot_length_min_s": st["min"], "shot_length_max_s": st["max"], "n_shots": int(len(shots)),
            "motion_mean": round(float(np.nanmean(motion)), 6) if ok.any() else None,
            "motion_std": round(float(np.nanstd(motion)), 6) if ok.any() else None,
            "pace_trend": trend,
        }
        return ModuleResult({"shot_lengths_s": lengths, "motion_per_second": per_s}, summary)
