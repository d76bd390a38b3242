"""``shot_quality``: per sampled frame and per shot image-quality measures.

Units (frames at ``width`` px, default 320, ``fps`` default 2):
``sharpness`` variance of the 3x3 Laplacian of luma (grey levels^2; higher = sharper, resolution
dependent); ``exposure`` mean luma 0..1; ``clipped_low``/``clipped_high`` fraction of pixels with
luma <= ``clip_low`` / >= ``clip_high`` (grey levels of the decoded, usually video-range, luma);
``contrast`` RMS contrast (std of luma / 255); ``colorfulness`` Hasler-Suesstrunk M (0..~150);
``noise`` Immerkaer sigma estimate in grey levels; ``blockiness`` ratio of mean horizontal
gradient on 8-px block boundaries (of the source grid, scaled to the analysis size) to the mean
elsewhere (1 = no blocking) -- NaN when the boundaries fall closer than 3 analysis pixels
(the view is too small to see source blocks). With ``extract.fast_decode`` the deblocking filter
is skipped, so blockiness reads the coded blocking rather than the displayed one.
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from engine.extractors.base import (
    ArraySpec,
    FrameBatch,
    FrameSpec,
    Module,
    ModuleResult,
    Requirements,
)
from engine.extractors.visual.common import per_shot_mean, shot_of, shots, stats

METRICS = ("sharpness", "exposure", "clipped_low", "clipped_high", "contrast", "colorfulness", "noise", "blockiness")
_NOISE_K = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


class ShotQuality(Module):
    name = "shot_quality"
    version = "1"
    defaults: ClassVar[dict[str, Any]] = {"fps": 2.0, "width": 320, "clip_low": 18, "clip_high": 233}
    outputs: ClassVar[dict[str, ArraySpec]] = {
        **{m: ArraySpec("float32", ("n",), allow_nan=(m == "blockiness")) for m in METRICS},
        "shots": ArraySpec("int64", ("s", 2)),
        "shot_metrics": ArraySpec("float32", ("s", len(METRICS)), allow_nan=True, doc="per-shot means, columns = METRICS"),
    }
    summary_keys = ("sharpness", "exposure", "blockiness_measurable")

    def requirements(self) -> Requirements:
        return Requirements(frames=FrameSpec(fps=float(self.params["fps"]), width=int(self.params["width"]), color="bgr"),
                            optional=("cut_detection",))

    def begin(self, inputs: Any) -> None:
        super().begin(inputs)
        self._rows: list[list[float]] = []
        self._idx: list[int] = []
        info = inputs.info
        self._period = 8.0 * min(1.0, float(self.params["width"]) / max(info.width, 1))

    def _blockiness(self, gray: np.ndarray) -> float:
        if self._period < 3.0:
            return float("nan")
        dx = np.abs(np.diff(gray, axis=1)).mean(axis=0)
        r = (np.arange(dx.size) + 1.0) % self._period  # dx[j] sits on the boundary before pixel j+1
        on = (r < 0.5) | (r > self._period - 0.5)
        if not on.any() or on.all():
            return float("nan")
        return float(dx[on].mean() / max(dx[~on].mean(), 1e-6))

    def update(self, batch: FrameBatch) -> None:
        lo, hi = self.params["clip_low"], self.params["clip_high"]
        for i, img in zip(batch.indices, batch.frames, strict=True):
            g8 = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            g = g8.astype(np.float32)
            b, gg, r = (img[..., k].astype(np.float32) for k in range(3))
            rg, yb = r - gg, 0.5 * (r + gg) - b
            colorful = float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))
            h, w = g.shape
            noise = float(np.sqrt(np.pi / 2) / (6 * max(w - 2, 1) * max(h - 2, 1))
                          * np.abs(cv2.filter2D(g, -1, _NOISE_K)[1:-1, 1:-1]).sum())
            self._rows.append([
                float(cv2.Laplacian(g8, cv2.CV_32F).var()), float(g.mean()) / 255.0,
                float((g8 <= lo).mean()), float((g8 >= hi).mean()), float(g.std()) / 255.0,
                colorful, noise, self._blockiness(g),
            ])
            self._idx.append(int(i))

    def finish(self) -> ModuleResult:
        m = np.asarray(self._rows, np.float32).reshape(-1, len(METRICS))
        idx = np.asarray(self._idx, np.int64)
        bounds = shots(self.inputs.upstream, idx)
        per_shot = per_shot_mean(m, shot_of(idx, bounds), len(bounds))
        arrays = {k: m[:, j].copy() for j, k in enumerate(METRICS)}
        arrays.update(shots=bounds, shot_metrics=per_shot)
        summary: dict[str, Any] = {k: stats(m[:, j])["mean"] for j, k in enumerate(METRICS)}
        summary["sharpness_min_shot"] = (float(np.nanmin(per_shot[:, 0]))
                                         if len(per_shot) and np.isfinite(per_shot[:, 0]).any() else None)
        summary["blockiness_measurable"] = bool(self._period >= 3.0)
        return ModuleResult(arrays, summary)
