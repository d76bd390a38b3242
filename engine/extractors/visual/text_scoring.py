"""``text_scoring``: where on-screen text is, per sampled frame (no OCR: none is installed).

Text-like regions (OpenCV, luma at ``width`` px): morphological gradient -> Otsu threshold ->
horizontal closing that joins characters into lines -> connected components kept when they
are wider than tall (aspect >= 1.5), 6..25 % of the frame height high, at least 45 % filled
with edge pixels and with enough edge transitions per width; a frame more than half covered is treated as
texture (no text). ``text_area`` = fraction of the frame covered by
those boxes (0..1); a frame "has text" when text_area >= ``min_area``; ``segments`` are runs
of such frames as [first, last] frame index. OCR fields are absent on purpose.
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


def text_boxes(gray: np.ndarray) -> list[tuple[int, int, int, int]]:
    h, w = gray.shape
    grad = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    _, bw = cv2.threshold(grad, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    if bw.mean() > 0.5 * 255:  # flat frames: Otsu on noise marks everything
        return []
    joined = cv2.morphologyEx(bw, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, w // 40), 1)))
    n, _, st, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    boxes = []
    # the cheap geometric tests on all components at once; the Python loop sees the few left
    sw, sh = st[1:, cv2.CC_STAT_WIDTH], st[1:, cv2.CC_STAT_HEIGHT]
    keep = (sh >= 0.02 * h) & (sh <= 0.25 * h) & (sw >= 1.5 * sh) & (sw >= 0.05 * w)
    for k in np.flatnonzero(keep) + 1:
        x, y, bw_, bh, area = (int(v) for v in st[k])
        roi = bw[y:y + bh, x:x + bw_]
        fill = float((roi > 0).mean())
        if fill < 0.45 and area / float(bw_ * bh) < 0.45:
            continue
        transitions = float(np.count_nonzero(np.diff(roi[bh // 2] > 0))) / max(bw_, 1)
        if transitions < 0.08:  # text alternates ink/background along its midline
            continue
        boxes.append((x, y, bw_, bh))
    return boxes


class TextScoring(Module):
    name = "text_scoring"
    version = "1"
    defaults: ClassVar[dict[str, Any]] = {"fps": 2.0, "width": 320, "min_area": 0.005}
    outputs: ClassVar[dict[str, ArraySpec]] = {
        "text_area": ArraySpec("float32", ("n",), doc="fraction of frame covered by text boxes"),
        "n_regions": ArraySpec("int32", ("n",)),
        "segments": ArraySpec("int64", ("g", 2), doc="[first, last] frame of runs with text"),
    }
    summary_keys = ("text_frame_fraction", "text_area_mean", "ocr")

    def requirements(self) -> Requirements:
        return Requirements(frames=FrameSpec(fps=float(self.params["fps"]), width=int(self.params["width"]), color="gray"))

    def begin(self, inputs: Any) -> None:
        super().begin(inputs)
        self._area: list[float] = []
        self._n: list[int] = []
        self._idx: list[int] = []

    def update(self, batch: FrameBatch) -> None:
        for i, g in zip(batch.indices, batch.frames, strict=True):
            boxes = text_boxes(g)
            mask = np.zeros(g.shape, bool)
            for x, y, w, h in boxes:
                mask[y:y + h, x:x + w] = True
            area = float(mask.mean())
            if area > 0.5:  # half the frame "text": a regular texture, not captions
                area, boxes = 0.0, []
            self._area.append(area)
            self._n.append(len(boxes))
            self._idx.append(int(i))

    def finish(self) -> ModuleResult:
        area = np.asarray(self._area, np.float32)
        idx = np.asarray(self._idx, np.int64)
        has = area >= self.params["min_area"]
        segs: list[list[int]] = []
        for k in range(len(has)):
            if has[k] and (k == 0 or not has[k - 1]):
                segs.append([int(idx[k]), int(idx[k])])
            elif has[k]:
                segs[-1][1] = int(idx[k])
        summary = {
            "text_frame_fraction": round(float(has.mean()), 6) if len(has) else 0.0,
            "text_area_mean": round(float(area.mean()), 6) if len(area) else 0.0,
            "n_segments": len(segs), "ocr": None, "ocr_note": "no OCR engine installed; regions only",
        }
        return ModuleResult({"text_area": area, "n_regions": np.asarray(self._n, np.int32),
                             "segments": np.asarray(segs, np.int64).reshape(-1, 2)}, summary)
