"""Rotation: a phone-style clip (display matrix in the MP4 track header) is probed with its
clockwise rotation, so the views are turned upright."""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from engine.extractors.decode import ViewKey, make_view
from engine.probe import probe


def _write(path: Path, rotate: int | None, w: int = 64, h: int = 32, n: int = 5) -> None:
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=Fraction(10))
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast"}
        for i in range(n):
            img = np.full((h, w, 3), 20 * i, np.uint8)
            img[: h // 2, : w // 4] = 255  # an asymmetric mark
            for packet in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
    if rotate is not None:
        _set_display_matrix(path, rotate)


def _set_display_matrix(path: Path, clockwise: int) -> None:
    """Write a clockwise rotation into the tkhd matrix, as phones do (FFmpeg 7 no longer writes
    the 'rotate' tag it used to accept as stream metadata)."""
    data = bytearray(path.read_bytes())
    at = data.find(b"tkhd")
    assert at > 0 and data[at + 4] == 0  # version 0 header: the matrix starts 44 bytes after the tag
    c, s = round(math.cos(math.radians(clockwise))), round(math.sin(math.radians(clockwise)))
    fixed = [c << 16, s << 16, 0, -s << 16, c << 16, 0, 0, 0, 1 << 30]
    data[at + 44: at + 80] = struct.pack(">9i", *fixed)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_rotation_tag_is_detected(tmp_path: Path, rotate: int) -> None:
    path = tmp_path / f"rot{rotate}.mp4"
    _write(path, rotate)
    summary, _ = probe(str(path))
    assert summary["rotation"] == rotate
    assert (summary["width"], summary["height"]) == (64, 32)  # coded size; views turn it
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    view = make_view(frame, ViewKey(32, "gray"), summary["rotation"])
    assert view.shape == ((32, 16) if rotate in (90, 270) else (16, 32))
    # the bright mark sits top-left in the stored frame; upright it lands in the corner the rotation moves it to
    corner = {90: view[:8, -4:], 180: view[-8:, -8:], 270: view[-8:, :4]}[rotate]
    assert corner.mean() > 200


def test_unrotated_clip_reads_zero(tmp_path: Path) -> None:
    path = tmp_path / "plain.mp4"
    _write(path, None)
    assert probe(str(path))[0]["rotation"] == 0
