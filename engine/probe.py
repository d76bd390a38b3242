"""The ``probe`` component: open the file with PyAV and record what it really contains.

Container, duration, fps, frame count, resolution, rotation, streams, a few decoded frames and
the audio header. A zero-byte file, a text file named .mp4, a file with no video stream or
one whose frames do not decode fails here as a permanent error with a clear reason.
"""

from __future__ import annotations

import os
from typing import Any

import av
import numpy as np

from engine.errors import MissingFile, NotAVideo, Undecodable, ZeroFrames

PROBE_VERSION = "2"  # 2: rotation read from the decoded frame's display matrix
_FRAMES_TO_DECODE = 3


def _frame_rotation(frame: Any) -> int | None:
    """Clockwise display rotation from a decoded frame's display matrix, or None if it has none.

    FFmpeg 7 / PyAV >= 14 no longer expose the MP4 ``rotate`` tag as stream metadata; the
    display matrix reaches the frames, whose ``rotation`` is counter-clockwise (a phone's
    portrait clip, tagged rotate=90, reads -90).
    """
    value = getattr(frame, "rotation", None)
    if value is None:
        return None
    try:
        return int(round(-float(value))) % 360
    except (TypeError, ValueError):
        return None


def _rotation(stream: Any) -> int:
    """Display rotation in degrees (0/90/180/270) from the stream's side data or metadata
    (older PyAV/FFmpeg builds; see :func:`_frame_rotation`)."""
    for attr in ("side_data",):
        side = getattr(stream, attr, None)
        if side:
            try:
                for key, value in dict(side).items():
                    if "rotat" in str(key).lower() or "matrix" in str(key).lower():
                        return int(round(float(value))) % 360
            except (TypeError, ValueError):
                pass
    rotate = (stream.metadata or {}).get("rotate")
    if rotate:
        try:
            return int(rotate) % 360
        except ValueError:
            return 0
    return 0


def probe(path: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Return (summary, arrays) for the video at ``path`` or raise a permanent error."""
    if not os.path.exists(path):
        raise MissingFile(f"file not found: {path}")
    if os.path.getsize(path) == 0:
        raise NotAVideo(f"file is empty (0 bytes): {path}")
    try:
        container = av.open(path)
    except av.error.InvalidDataError as exc:
        raise NotAVideo(f"not a video container FFmpeg can read: {path} ({exc})") from None
    except av.error.FileNotFoundError:
        raise MissingFile(f"file not found: {path}") from None
    except av.error.FFmpegError as exc:
        raise Undecodable(f"cannot open {path}: {exc}") from None
    with container:
        if not container.streams.video:
            raise NotAVideo(f"no video stream in {path} (streams: {[s.type for s in container.streams]})")
        vs = container.streams.video[0]
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        fps = float(rate) if rate else 0.0
        duration = 0.0
        if vs.duration is not None and vs.time_base is not None:
            duration = float(vs.duration * vs.time_base)
        elif container.duration:
            duration = container.duration / 1_000_000
        frames_declared = int(vs.frames or 0)
        frame_count = frames_declared or (round(duration * fps) if fps and duration else 0)
        audio: dict[str, Any] | None = None
        if container.streams.audio:
            a = container.streams.audio[0]
            audio = {
                "codec": a.codec_context.name,
                "sample_rate": int(a.codec_context.sample_rate or 0),
                "channels": int(a.codec_context.channels or 0),
                "layout": getattr(a.codec_context.layout, "name", None),
            }
        timestamps: list[float] = []
        sizes: list[tuple[int, int]] = []
        frame_rotation: int | None = None
        try:
            for frame in container.decode(video=0):
                if not timestamps:
                    frame_rotation = _frame_rotation(frame)
                timestamps.append(float(frame.time) if frame.time is not None else 0.0)
                sizes.append((frame.width, frame.height))
                if len(timestamps) >= _FRAMES_TO_DECODE:
                    break
        except av.error.FFmpegError as exc:
            raise Undecodable(f"video frames of {path} do not decode: {exc}") from None
        if not timestamps:
            raise ZeroFrames(f"no decodable video frame in {path}")
        summary = {
            "container": container.format.name,
            "duration_s": round(duration, 6),
            "fps": round(fps, 6),
            "frame_count": int(frame_count),
            "width": int(vs.codec_context.width or sizes[0][0]),
            "height": int(vs.codec_context.height or sizes[0][1]),
            "rotation": frame_rotation if frame_rotation else _rotation(vs),
            "video_codec": vs.codec_context.name,
            "pix_fmt": vs.codec_context.pix_fmt,
            "bit_rate": int(container.bit_rate or 0),
            "streams": [{"index": s.index, "type": s.type} for s in container.streams],
            "audio": audio,
            "file_size": os.path.getsize(path),
        }
    arrays = {"first_frame_times": np.asarray(timestamps, dtype=np.float64)}
    return summary, arrays
