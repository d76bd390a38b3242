"""One-pass video decoding into small analysis frames (see docs/extractors.md, "Decoder").

PyAV with frame+slice threading decodes every frame once; each frame is turned into the
few *views* (analysis width x colour) the enabled modules ask for, straight from the YUV
planes: the luma plane is decimated by an integer stride to about twice the target size and
then area-averaged (0.04 ms for 1280x720 -> 160x90, against 0.65 ms for a direct INTER_AREA
resize and 0.55 ms for a full-size BGR conversion). No full-resolution RGB frame is ever made.

``fast`` decoding sets the decoder's ``skip_loop_filter``: the in-loop deblocking filter is
not run (H.264/VP8/VP9/HEVC), which halves VP8 decode time. Reference frames then carry
small blocking errors; at analysis resolution they are below the features' noise, except
that ``shot_quality.blockiness`` reads them as compression blocking (documented there).
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import av
import cv2
import numpy as np

from engine.errors import Undecodable, ZeroFrames

_YUV420 = {"yuv420p", "yuvj420p"}
T = TypeVar("T")


@dataclass(frozen=True)
class ViewKey:
    width: int
    color: str  # "gray" | "bgr"


def view_size(src_w: int, src_h: int, width: int, rotation: int = 0) -> tuple[int, int]:
    """(w, h) of an analysis view of stored size src_w x src_h (never upsampled, even)."""
    w = min(width, src_w)
    h = max(2, int(round(src_h * w / src_w / 2.0)) * 2)
    w = max(2, w - (w % 2))
    return w, h


def _plane(frame: av.VideoFrame, i: int, w: int, h: int) -> np.ndarray:
    p = frame.planes[i]
    # VideoPlane implements the buffer protocol; the numpy stubs do not know it
    buf: Any = p
    return np.frombuffer(buf, np.uint8).reshape(p.height, p.line_size)[:h, :w]


def _shrink(a: np.ndarray, w: int, h: int) -> np.ndarray:
    """Area-average ``a`` to (h, w) through twice that size (cheap, little aliasing).

    Where an integer stride lands exactly on (2h, 2w) (1280x720 -> 64x36: stride 10) the strided
    samples are averaged 2x2. Otherwise (a 640x360 source's 320x180 chroma, 1080p chroma,
    854x480) a bilinear resize of the whole plane to (2h, 2w) comes first: OpenCV's INTER_AREA is
    fast only at 2:1, and its general path on a strided plane (160x90 -> 64x36) cost 29-32 us per
    plane per frame against 14-23 us, and was further from a full area average (mean abs error
    4-12 vs 0.3-2.3 grey levels on smooth test images). Reductions under 2x area-average the
    whole plane (quality for the 320 px views)."""
    step = max(1, min(a.shape[1] // (2 * w), a.shape[0] // (2 * h)))
    if step == 1:
        return cv2.resize(np.ascontiguousarray(a), (w, h), interpolation=cv2.INTER_AREA)
    twice = a[::step, ::step]
    if twice.shape != (2 * h, 2 * w):
        twice = cv2.resize(a, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(np.ascontiguousarray(twice), (w, h), interpolation=cv2.INTER_AREA)


def make_view(frame: av.VideoFrame, key: ViewKey, rotation: int = 0,
              memo: dict[tuple[int, int, int], np.ndarray] | None = None) -> np.ndarray:
    """The frame at analysis size: (h, w) luma or (h, w, 3) BGR, uint8, display-rotated.

    ``memo`` (one dict per frame) shares the shrunk planes between the views of that frame:
    a grey and a BGR view of the same width take the same luma, computed once (the result is
    identical to building each view alone)."""
    w, h = view_size(frame.width, frame.height, key.width)
    fmt = frame.format.name
    if fmt in _YUV420 or (key.color == "gray" and fmt.startswith(("yuv", "yuvj", "gray", "nv12"))):
        planes = frame.planes

        def shrunk(i: int, pw: int, ph: int) -> np.ndarray:
            if memo is not None and (i, w, h) in memo:
                return memo[(i, w, h)]
            p = planes[i]
            buf: Any = p  # VideoPlane implements the buffer protocol; the numpy stubs do not know it
            a = _shrink(np.frombuffer(buf, np.uint8).reshape(p.height, p.line_size)[:ph, :pw], w, h)
            if memo is not None:
                memo[(i, w, h)] = a
            return a

        y = shrunk(0, frame.width, frame.height)
        if key.color == "gray":
            out = y
        elif fmt in _YUV420:
            cw, ch = (frame.width + 1) // 2, (frame.height + 1) // 2
            out = cv2.cvtColor(cv2.merge([y, shrunk(2, cw, ch), shrunk(1, cw, ch)]), cv2.COLOR_YCrCb2BGR)
        else:  # pragma: no cover - other chroma layouts go through swscale
            out = frame.reformat(w, h, "bgr24", interpolation="AREA").to_ndarray()
    else:
        out = frame.reformat(w, h, "gray" if key.color == "gray" else "bgr24", interpolation="AREA").to_ndarray()
    if rotation in (90, 180, 270):
        # rotation is the clockwise display rotation; np.rot90 turns counter-clockwise
        out = np.ascontiguousarray(np.rot90(out, k=-(rotation // 90)))
    return out


def luma_crop(frame: av.VideoFrame, size: int) -> np.ndarray:
    """Central crop of the native luma plane, at most ``size`` px square, whose origin and
    size are multiples of 8 (so the coding-block grid sits at crop columns/rows 8k)."""
    cw = max(8, min(size, frame.width) // 8 * 8)
    ch = max(8, min(size, frame.height) // 8 * 8)
    x0 = (frame.width - cw) // 2 // 8 * 8
    y0 = (frame.height - ch) // 2 // 8 * 8
    fmt = frame.format.name
    if fmt.startswith(("yuv", "yuvj", "gray", "nv12", "nv21")) and not fmt.endswith(("le", "be")):
        y = _plane(frame, 0, frame.width, frame.height)
    else:  # pragma: no cover - RGB-coded sources
        y = frame.reformat(format="gray").to_ndarray()
    return np.ascontiguousarray(y[y0:y0 + ch, x0:x0 + cw])


@dataclass
class SourceFrame:
    index: int
    time: float
    frame: av.VideoFrame


class FrameSource:
    """Iterate over every decoded frame of the first video stream, in presentation order."""

    def __init__(self, path: str, *, fast: bool = True, threads: int = 0) -> None:
        self.path = path
        self.fast = fast
        self.threads = threads
        self.frames_decoded = 0

    def __iter__(self) -> Iterator[SourceFrame]:
        try:
            container = av.open(self.path)
        except av.error.FFmpegError as exc:
            raise Undecodable(f"cannot open {self.path}: {exc}") from None
        with container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if self.threads:
                stream.codec_context.thread_count = self.threads
            if self.fast:
                stream.codec_context.options = {"skip_loop_filter": "all"}
            rate = stream.average_rate or stream.guessed_rate
            fps = float(rate) if rate else 0.0
            index = 0
            try:
                for frame in container.decode(stream):
                    t = float(frame.time) if frame.time is not None else (index / fps if fps else 0.0)
                    yield SourceFrame(index, t, frame)
                    index += 1
            except av.error.FFmpegError as exc:
                if index == 0:
                    raise Undecodable(f"video frames of {self.path} do not decode: {exc}") from None
                # a truncated tail: keep what decoded (recorded as frames_decoded)
            self.frames_decoded = index
        if index == 0:
            raise ZeroFrames(f"no decodable video frame in {self.path}")


class Sampler:
    """Selects the frames of one module: every frame, or the first frame of each 1/fps bin."""

    def __init__(self, fps: float | None, source_fps: float) -> None:
        self.every = fps is None or source_fps <= 0 or fps >= source_fps
        self.fps = source_fps if self.every or fps is None else fps
        self._last_bin = -1

    def wants(self, index: int, t: float) -> bool:
        if self.every:
            return True
        b = math.floor(t * self.fps + 1e-6)
        if b > self._last_bin:
            self._last_bin = b
            return True
        return False


_END = object()


def threaded(frames: Iterable[T], depth: int = 8) -> Iterator[T]:
    """Iterate ``frames`` in a background thread, ``depth`` items ahead (see "Decoder" in
    docs/extractors.md): FFmpeg decodes without the GIL, so the next frames decode while the
    caller's Python/numpy work on the current one runs. Exceptions of the producer are
    re-raised here; closing this generator early stops the producer."""
    q: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in frames:
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(_END)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(exc)

    worker = threading.Thread(target=produce, name="vidops-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)
