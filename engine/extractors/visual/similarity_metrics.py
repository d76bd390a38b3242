"""``similarity_metrics``: compact per-shot colour/texture embeddings and how shots relate.

Frame embedding (dimension 160, L2-normalised halves): a 8x4x4 HSV colour histogram (128) and
a 2x2-grid, 8-orientation gradient-magnitude histogram (32) of a 96-px frame sampled at
``fps``. Shot embedding = normalised mean of its frames; video embedding = normalised mean of
the shots (used by ``uniqueness``). ``shot_similarity`` is the cosine matrix (0..1).
``repetition`` = fraction of shots whose best match among earlier, non-adjacent shots is
>= ``repeat_threshold``; ``diversity`` = 1 - mean off-diagonal similarity (0 when one shot).
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
from engine.extractors.visual.common import shot_of, shots

DIM = 160


def frame_embedding(img: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    colour = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
    gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
    gx, gy = cv2.Sobel(gray, cv2.CV_32F, 1, 0), cv2.Sobel(gray, cv2.CV_32F, 0, 1)
    mag, ang = cv2.cartToPolar(gx, gy)
    bins = np.minimum((ang % np.pi) / np.pi * 8, 7).astype(np.int64)
    h, w = gray.shape
    tex = []
    for rows in (slice(0, h // 2), slice(h // 2, h)):
        for cols in (slice(0, w // 2), slice(w // 2, w)):
            tex.append(np.bincount(bins[rows, cols].ravel(), weights=mag[rows, cols].ravel(), minlength=8))
    tx = np.concatenate(tex)
    c = colour / max(float(np.linalg.norm(colour)), 1e-9)
    t = tx / max(float(np.linalg.norm(tx)), 1e-9)
    return (np.concatenate([c, t]) / np.sqrt(2.0)).astype(np.float32)


def _norm_rows(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)).astype(np.float32)


class SimilarityMetrics(Module):
    name = "similarity_metrics"
    version = "1"
    defaults: ClassVar[dict[str, Any]] = {"fps": 2.0, "repeat_threshold": 0.9}
    outputs: ClassVar[dict[str, ArraySpec]] = {
        "frame_embeddings": ArraySpec("float32", ("n", DIM)),
        "shots": ArraySpec("int64", ("s", 2)),
        "shot_embeddings": ArraySpec("float32", ("s", DIM)),
        "shot_similarity": ArraySpec("float32", ("s", "s")),
        "video_embedding": ArraySpec("float32", (DIM,)),
    }
    summary_keys = ("repetition", "diversity", "n_shots")

    def requirements(self) -> Requirements:
        return Requirements(frames=FrameSpec(fps=float(self.params["fps"]), width=96, color="bgr"),
                            optional=("cut_detection",))

    def begin(self, inputs: Any) -> None:
        super().begin(inputs)
        self._emb: list[np.ndarray] = []
        self._idx: list[int] = []

    def update(self, batch: FrameBatch) -> None:
        for i, img in zip(batch.indices, batch.frames, strict=True):
            self._emb.append(frame_embedding(img))
            self._idx.append(int(i))

    def finish(self) -> ModuleResult:
        emb = np.asarray(self._emb, np.float32).reshape(-1, DIM)
        idx = np.asarray(self._idx, np.int64)
        bounds = shots(self.inputs.upstream, idx)
        sid = shot_of(idx, bounds)
        keep = np.asarray([bool((sid == s).any()) for s in range(len(bounds))], bool)
        bounds = bounds[keep]  # shots shorter than the sampling interval have no frame
        sid = shot_of(idx, bounds)
        shot_emb = _norm_rows(np.stack([emb[sid == s].mean(axis=0) for s in range(len(bounds))])) if len(emb) else np.zeros((0, DIM), np.float32)
        sim = np.clip(shot_emb @ shot_emb.T, 0.0, 1.0).astype(np.float32)
        s = len(shot_emb)
        repeats = sum(1 for k in range(2, s) if float(sim[k, : k - 1].max()) >= self.params["repeat_threshold"])
        off = sim[~np.eye(s, dtype=bool)] if s > 1 else np.zeros(0)
        video = _norm_rows(shot_emb.mean(axis=0)) if s else np.zeros(DIM, np.float32)
        summary = {
            "n_shots": int(s), "repetition": round(repeats / s, 6) if s else 0.0,
            "diversity": round(1.0 - float(off.mean()), 6) if off.size else 0.0,
            "mean_adjacent_similarity": round(float(np.mean(np.diag(sim, 1))), 6) if s > 1 else None,
        }
        arrays = {"frame_embeddings": emb, "shots": bounds, "shot_embeddings": shot_emb, "shot_similarity": sim,
                  "video_embedding": video.astype(np.float32)}
        return ModuleResult(arrays, summary)
