"""Analysis views straight from the YUV planes (engine/extractors/decode.py)."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from engine.extractors.decode import ViewKey, _shrink, make_view, view_size


def _smooth(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 16 + 2, w // 16 + 2), np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def test_exact_stride_is_strided_then_halved() -> None:
    a = _smooth(720, 1280)  # 1280x720 -> 64x36: stride 10 lands on 128x72
    expect = cv2.resize(np.ascontiguousarray(a[::10, ::10]), (64, 36), interpolation=cv2.INTER_AREA)
    assert np.array_equal(_shrink(a, 64, 36), expect)


@pytest.mark.parametrize(("shape", "size"), [((180, 320), (64, 36)), ((540, 960), (64, 36)), ((480, 854), (64, 36)),
                                             ((360, 640), (96, 54))])
def test_inexact_stride_goes_through_a_bilinear_twice_size(shape: tuple[int, int], size: tuple[int, int]) -> None:
    a = _smooth(*shape)
    w, h = size
    out = _shrink(a, w, h)
    twice = cv2.resize(a, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR)
    assert out.shape == (h, w)
    assert np.array_equal(out, cv2.resize(twice, (w, h), interpolation=cv2.INTER_AREA))
    # closer to a full area average than the former strided plane + fractional INTER_AREA
    reference = cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA).astype(int)
    step = min(shape[1] // (2 * w), shape[0] // (2 * h))
    strided = cv2.resize(np.ascontiguousarray(a[::step, ::step]), (w, h), interpolation=cv2.INTER_AREA)
    assert np.abs(out - reference).mean() < 0.5 * np.abs(strided - reference).mean()


def test_less_than_twofold_is_a_full_area_average() -> None:
    a = _smooth(360, 640)
    assert np.array_equal(_shrink(a, 320, 180), cv2.resize(a, (320, 180), interpolation=cv2.INTER_AREA))


def test_bgr_view_of_a_360p_frame_keeps_the_colours() -> None:
    # chroma order (Cr from plane 2, Cb from plane 1) and the 320x180 -> 64x36 chroma path
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (220, 220, 40)]  # BGR quadrants
    bgr = np.zeros((360, 640, 3), np.uint8)
    for k, c in enumerate(colours):
        bgr[(k // 2) * 180:(k // 2 + 1) * 180, (k % 2) * 320:(k % 2 + 1) * 320] = c
    frame = av.VideoFrame.from_ndarray(bgr, format="bgr24").reformat(format="yuv420p")
    w, h = view_size(640, 360, 64)
    view = make_view(frame, ViewKey(64, "bgr"))  # chroma 320x180 -> 64x36: the bilinear path
    assert view.shape == (h, w, 3) and view.dtype == np.uint8
    # the planes as decoded, converted at full size the way the views convert (YCrCb, as stored)
    y_, u_, v_ = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, :p.width] for p in frame.planes)
    up = [cv2.resize(np.ascontiguousarray(c), (640, 360), interpolation=cv2.INTER_NEAREST) for c in (v_, u_)]
    full = cv2.cvtColor(cv2.merge([np.ascontiguousarray(y_), *up]), cv2.COLOR_YCrCb2BGR)
    for k in range(4):
        yy, xx = (k // 2) * h // 2 + h // 4, (k % 2) * w // 2 + w // 4
        centre = full[(k // 2) * 180 + 90, (k % 2) * 320 + 160].astype(int)
        assert np.abs(view[yy, xx].astype(int) - centre).max() <= 2, (k, view[yy, xx], centre)
    assert len({tuple(view[(k // 2) * h // 2 + h // 4, (k % 2) * w // 2 + w // 4]) for k in range(4)}) == 4
