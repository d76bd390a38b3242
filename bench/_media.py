"""Synthetic benchmark media: moving shapes over gradients with hard cuts (real decode work)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def make_clip(path: Path, seconds: float, size: tuple[int, int] = (320, 240), fps: int = 25, shot_s: float = 2.0) -> Path:
    w, h = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
    rng = np.random.default_rng(abs(hash(path.name)) % 2**32)
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(int(seconds * fps)):
        if i % int(shot_s * fps) == 0:
            colours = rng.integers(0, 255, size=(2, 3))
        t = i / fps
        grad = (xx / w)[..., None] * colours[0] + (yy / h)[..., None] * colours[1]
        frame = (grad / 2).astype(np.uint8)
        cx, cy = int(w / 2 + w / 3 * np.sin(t * 2)), int(h / 2 + h / 3 * np.cos(t * 3))
        cv2.circle(frame, (cx, cy), h // 6, (255, 255, 255), -1)
        cv2.putText(frame, f"{t:5.2f}", (10, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 255), 2)
        writer.write(frame)
    writer.release()
    return path
