"""``shot_quality``: per sampled frame and per shot image-quality measures.

Units (frames at ``width`` px, default 320, ``fps`` default 2):
``sharpness`` variance of the 3x3 Laplacian of luma (grey levels^2; higher = sharper, resolution
dependent); ``exposure`` mean luma 0..1; ``clipped_low``/``clipped_high`` fraction of pixels with
luma <= ``clip_low`` / >= ``clip_high`` (grey levels of the decoded, usually video-range, luma);
``contrast`` RMS contrast (std of luma / 255); ``colorfulness`` Hasler-Suesstrunk M (0..~150);
``noise`` Immerkaer sigma estimate in grey levels; ``blockiness`` ratio of the mean luma
gradient across 8-px block boundaries to the mean gradient elsewhere (1 = no blocking), measured
on a ``blockiness_crop`` px (default 256) central crop of the *native-resolution* luma plane
aligned to the coding grid (``FrameSpec.luma_crop``) at the same 2 fps samples -- at 320 px a
720p source's 8-px grid is < 3 px apart and invisible. With ``extract.fast_decode`` the
deblocking filter is skipped, so blockiness reads the coded blocking rather than the displayed
one. Both gradient means get +1 grey level, so flat crops (black frames) read 1. Per-shot means: a shot without a sampled frame (shorter than 1/fps) takes the values of
the sample nearest its middle, so ``shot_metrics`` has no NaN rows. Sharpness runs batched
(engine/extractors/visual/batched.py; CUDA when ``inputs.device`` is ``cuda``).
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
from engine.extractors.visual.batched import laplacian_var
from engine.extractors.visual.common import per_shot_mean, shot_of, shots, stats

METRICS = ("sharpness", "exposure", "clipped_low", "clipped_high", "contrast", "colorfulness", "noise", "blockiness")
_FLAT = 1.0  # grey levels added to both gradient means of blockiness
_NOISE_K = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def blockiness(y: np.ndarray) -> float:
    """Blocking of a native-resolution luma crop whose origin is on the 8-px grid: mean
    absolute gradient across 8-px block boundaries / mean gradient elsewhere, horizontal and
    vertical pooled, both regularised by 1 grey level (1 = no blocking or a flat crop; NaN for a
    crop smaller than 16 px)."""
    if min(y.shape) < 16:
        return float("nan")
    g = y.astype(np.int16)
    dx = np.abs(np.diff(g, axis=1)).mean(axis=0)  # dx[j]: between columns j and j+1
    dy = np.abs(np.diff(g, axis=0)).mean(axis=1)
    on_x = (np.arange(dx.size) + 1) % 8 == 0
    on_y = (np.arange(dy.size) + 1) % 8 == 0
    on = float(dx[on_x].sum() + dy[on_y].sum()) / (on_x.sum() + on_y.sum())
    off = float(dx[~on_x].sum() + dy[~on_y].sum()) / ((~on_x).sum() + (~on_y).sum())
    # +1 grey level on both sides: a flat (black, fading) crop reads 1 instead of 0/0
    return (on + _FLAT) / (off + _FLAT)


class ShotQuality(Module):
    name = "shot_quality"
    version = "2"
    uses_device = True
    defaults: ClassVar[dict[str, Any]] = {"fps": 2.0, "width": 320, "clip_low": 18, "clip_high": 233,
                                          "blockiness_crop": 256}
    outputs: ClassVar[dict[str, ArraySpec]] = {
        **{m: ArraySpec("float32", ("n",), allow_nan=(m == "blockiness")) for m in METRICS},
        "shots": ArraySpec("int64", ("s", 2)),
        "shot_metrics": ArraySpec("float32", ("s", len(METRICS)), allow_nan=True, doc="per-shot means, columns = METRICS"),
    }
    summary_keys = ("sharpness", "exposure", "blockiness_measurable")

    def requirements(self) -> Requirements:
        return Requirements(frames=FrameSpec(fps=float(self.params["fps"]), width=int(self.params["width"]), color="bgr",
                                             luma_crop=int(self.params["blockiness_crop"])),
                            optional=("cut_detection",))

    def begin(self, inputs: Any) -> None:
        super().begin(inputs)
        self._rows: list[np.ndarray] = []
        self._idx: list[np.ndarray] = []

    def update(self, batch: FrameBatch) -> None:
        lo, hi = self.params["clip_low"], self.params["clip_high"]
        frames = batch.frames
        n = frames.shape[0]
        h, w = frames.shape[1:3]
        tall = np.ascontiguousarray(frames).reshape(n * h, w, 3)  # one colour conversion per batch
        gray = cv2.cvtColor(tall, cv2.COLOR_BGR2GRAY).reshape(n, h, w)
        rows = np.empty((n, len(METRICS)), np.float64)
        rows[:, 0] = laplacian_var(gray, self.inputs.device, self.inputs.batch_size_scale)
        flat = gray.reshape(n, -1)
        rows[:, 2] = (flat <= lo).mean(axis=1)
        rows[:, 3] = (flat >= hi).mean(axis=1)
        noise_scale = np.sqrt(np.pi / 2) / (6 * max(w - 2, 1) * max(h - 2, 1))
        # per frame, cache-sized OpenCV reductions (measured faster than whole-batch numpy ones)
        for k in range(n):
            (mean,), (std,) = cv2.meanStdDev(gray[k])
            rows[k, 1], rows[k, 4] = mean[0] / 255.0, std[0] / 255.0
            f = frames[k].astype(np.float32)
            (m_rg,), (s_rg,) = cv2.meanStdDev(f[..., 2] - f[..., 1])
            (m_yb,), (s_yb,) = cv2.meanStdDev(0.5 * (f[..., 2] + f[..., 1]) - f[..., 0])
            rows[k, 5] = np.hypot(s_rg[0], s_yb[0]) + 0.3 * np.hypot(m_rg[0], m_yb[0])
            resp = cv2.filter2D(gray[k], cv2.CV_16S, _NOISE_K)[1:-1, 1:-1]  # integer taps: exact
            rows[k, 6] = noise_scale * cv2.norm(resp, cv2.NORM_L1)
        rows[:, 7] = [blockiness(c) for c in batch.crops] if batch.crops is not None else np.nan
        self._rows.append(rows)
        self._idx.append(np.asarray(batch.indices, np.int64))

    def finish(self) -> ModuleResult:
        m = (np.concatenate(self._rows) if self._rows else np.zeros((0, len(METRICS)))).astype(np.float32)
        idx = np.concatenate(self._idx) if self._idx else np.zeros(0, np.int64)
        bounds = shots(self.inputs.upstream, idx)
        per_shot = per_shot_mean(m, shot_of(idx, bounds), len(bounds))
        if len(idx):  # a shot shorter than the sampling period takes its nearest sample
            for s in np.flatnonzero(np.isnan(per_shot).all(axis=1)):
                mid = 0.5 * (bounds[s, 0] + bounds[s, 1])
                per_shot[s] = m[int(np.argmin(np.abs(idx - mid)))]
        arrays = {k: m[:, j].copy() for j, k in enumerate(METRICS)}
        arrays.update(shots=bounds, shot_metrics=per_shot)
        summary: dict[str, Any] = {k: stats(m[:, j])["mean"] for j, k in enumerate(METRICS)}
        summary["sharpness_min_shot"] = (float(np.nanmin(per_shot[:, 0]))
                                         if len(per_shot) and np.isfinite(per_shot[:, 0]).any() else None)
        summary["blockiness_measurable"] = bool(np.isfinite(m[:, 7]).any())
        return ModuleResult(arrays, summary)
