"""``cut_detection``: hard cuts and gradual transitions (fades, dissolves) on every frame.

Per frame (64-px-wide BGR view) it keeps only scalars and a 16x9 signature:
``pix``  mean absolute BGR difference to the previous frame (0..1),
``hist`` half L1 distance between 4x4x4 BGR histograms of consecutive frames (0..1),
``luma`` mean luma (0..1).
The cut score is ``sqrt(pix * hist)`` -- camera motion moves pixels but hardly the histogram,
a change of lighting moves the histogram but little each pixel; a cut moves both.

*Hard cut* at frame i (first frame of the new shot): score >= ``threshold`` and >= ``ratio``
times the local baseline (median score of the surrounding +-``window`` frames), and not
inside a fade (both frames dark). *Gradual transitions* are found twice over:
fades -- a run of dark frames (luma < ``black_luma``) extended while luma falls before it /
rises after it; dissolves -- twin comparison: a run of frames whose score stays above a low
threshold, without a hard cut, 3..``max_gradual`` frames long, whose first and last frames
differ like a cut and whose middle frame is close to the average of the two (a blend, not
motion). Output frame indices are source frame indices; scores are in 0..1.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.ndimage import median_filter, percentile_filter

from engine.extractors.base import (
    ArraySpec,
    FrameBatch,
    FrameSpec,
    Module,
    ModuleResult,
    Requirements,
)
from engine.extractors.visual.batched import CutFeatures, cut_features


def _hist(img: np.ndarray) -> np.ndarray:
    q = (img >> 6).astype(np.int32)  # 4 levels per channel
    codes = q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]
    return np.bincount(codes.ravel(), minlength=64).astype(np.float32) / codes.size


class CutDetection(Module):
    name = "cut_detection"
    version = "1"
    uses_device = True
    defaults: ClassVar[dict[str, Any]] = {
        "threshold": 0.10, "ratio": 3.0, "window": 12, "min_shot_frames": 3,
        "black_luma": 0.08, "gradual_threshold": 0.12, "max_gradual": 60, "width": 64,
    }
    outputs: ClassVar[dict[str, ArraySpec]] = {
        "score": ArraySpec("float32", ("n",), doc="cut score per frame (0 for frame 0)"),
        "pixel_diff": ArraySpec("float32", ("n",), doc="mean abs BGR difference to previous frame, 0..1"),
        "luma": ArraySpec("float32", ("n",), doc="mean luma 0..1"),
        "hard_cuts": ArraySpec("int64", ("c",), doc="first frame of each new shot"),
        "hard_cut_scores": ArraySpec("float32", ("c",)),
        "gradual": ArraySpec("int64", ("g", 2), doc="[first, last] frame of each gradual transition"),
        "gradual_scores": ArraySpec("float32", ("g",)),
        "gradual_kind": ArraySpec("int8", ("g",), doc="0 fade, 1 dissolve"),
        "shots": ArraySpec("int64", ("s", 2), doc="[first, last] frame of each shot"),
    }
    summary_keys = ("n_hard_cuts", "n_gradual", "n_shots")

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> str | None:
        if not 0 < params["threshold"] < 1 or params["ratio"] < 1 or params["window"] < 2:
            return "threshold must be in (0,1), ratio >= 1, window >= 2"
        return None

    def requirements(self) -> Requirements:
        return Requirements(frames=FrameSpec(fps=None, width=int(self.params["width"]), color="bgr"))

    def begin(self, inputs: Any) -> None:
        super().begin(inputs)
        self._prev: np.ndarray | None = None
        self._prev_hist: np.ndarray | None = None
        self._chunks: list[CutFeatures] = []
        self._idx: list[np.ndarray] = []
        self._sigs: np.ndarray = np.zeros((0, 9, 16, 3), np.uint8)

    def update(self, batch: FrameBatch) -> None:
        # one vectorised pass per batch (engine/extractors/visual/batched.py), on CUDA when present
        feats = cut_features(batch.frames, self._prev, self._prev_hist, self.inputs.device, self.inputs.batch_size_scale)
        self._prev, self._prev_hist = feats.last, feats.last_hist
        self._chunks.append(feats)
        self._idx.append(np.asarray(batch.indices, np.int64))

    # --- decisions ------------------------------------------------------------------------
    def _sig_dist(self, a: int, b: int) -> float:
        x, y = self._sigs[a].astype(np.float32), self._sigs[b].astype(np.float32)
        pix = float(np.abs(x - y).mean()) / 255.0
        hist = 0.5 * float(np.abs(_hist(self._sigs[a]) - _hist(self._sigs[b])).sum())
        return float(np.sqrt(pix * hist))

    def _fades(self, luma: np.ndarray, dark: np.ndarray) -> list[tuple[int, int, float]]:
        out: list[tuple[int, int, float]] = []
        n = len(luma)
        i = 0
        while i < n:
            if not dark[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and dark[j + 1]:
                j += 1
            a, b = i, j
            # extend over any monotone luma change, then trim the flat ends (noise, not fading)
            while a > 0 and luma[a - 1] > luma[a] + 3e-4:  # fade-out before the black run
                a -= 1
            while a < i and luma[a] - luma[a + 1] < 0.004:
                a += 1
            while b + 1 < n and luma[b + 1] > luma[b] + 3e-4:  # fade-in after it
                b += 1
            while b > j and luma[b] - luma[b - 1] < 0.004:
                b -= 1
            if b - a >= 3 and (a < i or b > j):
                depth = float(max(luma[a], luma[b]) - luma[i:j + 1].min())
                # a is the last undimmed frame (unless the video starts dark); b the last brightening one
                out.append((a + 1 if a < i and a > 0 else a, b, depth))
            i = j + 1
        return out

    def finish(self) -> ModuleResult:
        p = self.params
        ch = self._chunks
        pix = np.concatenate([c.pix for c in ch]).astype(np.float32) if ch else np.zeros(0, np.float32)
        hist = np.concatenate([c.hist for c in ch]).astype(np.float32) if ch else np.zeros(0, np.float32)
        luma = np.concatenate([c.luma for c in ch]).astype(np.float32) if ch else np.zeros(0, np.float32)
        self._sigs = np.concatenate([c.sigs for c in ch]) if ch else np.zeros((0, 9, 16, 3), np.uint8)
        n = len(pix)
        score = np.sqrt(pix * hist).astype(np.float32)
        w = int(p["window"])
        base = median_filter(score, size=2 * w + 1, mode="nearest") if n else score
        dark = luma < p["black_luma"]
        fades = self._fades(luma, dark)
        in_fade = np.zeros(n, bool)
        for a, b, _ in fades:
            in_fade[a:b + 2] = True
        cuts: list[int] = []
        for i in range(1, n):
            if score[i] < p["threshold"] or score[i] < p["ratio"] * max(float(base[i]), 0.01):
                continue
            if in_fade[i] or (dark[i] and dark[i - 1]):
                continue
            local = score[max(1, i - 1):i + 2]
            if score[i] < local.max():  # keep the local peak only
                continue
            if cuts and i - cuts[-1] < p["min_shot_frames"]:
                continue
            cuts.append(i)
        gradual: list[tuple[int, int, float, int]] = [(a, b, s, 0) for a, b, s in fades]
        # a dissolve lifts the median over a short window: use a low percentile of a wide one
        slow = percentile_filter(score, 30, size=5 * w + 1, mode="nearest") if n else score
        low = np.maximum(p["gradual_threshold"] * 0.15, 2.0 * slow)
        active = score > low
        cut_set = set(cuts)
        i = 1
        while i < n:
            if not active[i] or i in cut_set:
                i += 1
                continue
            j = i
            while j + 1 < n and active[j + 1] and j + 1 not in cut_set:
                j += 1
            a, b = i - 1, j  # last frame before, last frame of the run
            if 3 <= b - a <= p["max_gradual"] and not any(a <= g[1] and g[0] <= b for g in gradual):
                d = self._sig_dist(a, b)
                if d >= p["gradual_threshold"]:
                    m = (a + b) // 2
                    blend = 0.5 * (self._sigs[a].astype(np.float32) + self._sigs[b].astype(np.float32))
                    resid = float(np.abs(self._sigs[m].astype(np.float32) - blend).mean()) / 255.0
                    span = float(np.abs(self._sigs[a].astype(np.float32) - self._sigs[b].astype(np.float32)).mean()) / 255.0
                    if resid < 0.5 * span:  # j = b is the first frame of the new shot
                        gradual.append((a + 1, b - 1, d, 1))
            i = j + 1
        gradual.sort()
        idx = np.concatenate(self._idx) if self._idx else np.zeros(0, np.int64)
        hard = idx[np.asarray(cuts, np.int64)] if cuts else np.zeros(0, np.int64)
        bounds = sorted(set(cuts))
        starts = [0, *bounds]
        ends = [b - 1 for b in bounds] + [n - 1]
        shots = np.asarray([[idx[s], idx[e]] for s, e in zip(starts, ends, strict=True)] if n else [], np.int64).reshape(-1, 2)
        g_arr = np.asarray([[idx[a], idx[b]] for a, b, _, _ in gradual], np.int64).reshape(-1, 2)
        arrays = {
            "score": score, "pixel_diff": pix, "luma": luma,
            "hard_cuts": hard.astype(np.int64),
            "hard_cut_scores": score[np.asarray(cuts, np.int64)] if cuts else np.zeros(0, np.float32),
            "gradual": g_arr,
            "gradual_scores": np.asarray([g[2] for g in gradual], np.float32),
            "gradual_kind": np.asarray([g[3] for g in gradual], np.int8),
            "shots": shots,
        }
        summary = {
            "n_hard_cuts": len(cuts), "n_gradual": len(gradual), "n_shots": int(len(shots)),
            "hard_cuts": [int(x) for x in hard], "gradual": [[int(a), int(b)] for a, b in g_arr],
        }
        return ModuleResult(arrays, summary)
