"""The feature-module interface every extractor (visual or audio) implements.

A module declares what it needs (:class:`Requirements`: a :class:`FrameSpec` for frames,
whether it needs audio, which other modules' outputs it reads) and what it writes
(:class:`ArraySpec` per named array, summary keys). The runner (engine/extractors/runner.py)
decodes the video once and streams frames to every module as an incremental consumer:

    begin(inputs)            once, before any frame; ``inputs`` has the video info, a
                             per-video cache and ``upstream`` (filled as modules finish)
    update(batch)            zero or more times, with a bounded :class:`FrameBatch` already
                             resized to the module's analysis resolution and colour
    finish() -> ModuleResult once: named numpy arrays + a JSON-able scalar summary

Modules finish in registry order, which respects ``needs``/``optional``: when ``finish`` runs,
``inputs.upstream`` holds the results of the modules it names (read them there, not in
``begin``). Only ``finish`` is required. A module that cannot apply returns a reason from
``applicable(info)`` or raises :class:`SkipModule` (from ``begin`` or ``finish``); it is then
recorded with ``status='skipped'`` and that reason, never with made-up output.

Audio-only modules use ``FrameSpec`` ``None`` (no frames) and ``audio=True``; they decode audio
themselves in ``begin``/``finish`` (engine/extractors/audio/decode.py) and may memoize the
decoded signal in ``inputs.cache`` so that several audio modules decode once per video.
A module without frames and without ``needs``/``optional`` runs begin→finish in the runner's
background thread, concurrently with the video decode (docs/extractors.md, "Threads"): it must
not touch other modules' state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np


class SkipModule(Exception):  # noqa: N818 - it is a control-flow signal, not an error
    """Raised by a module that cannot apply to this video; the message is the reason."""


@dataclass(frozen=True)
class FrameSpec:
    """Which frames a module wants and in what form.

    ``fps``: analysis rate in frames per second; ``None`` means every decoded frame.
    ``width``: analysis width in pixels (height follows the display aspect, rounded to even);
    the runner never upsamples, so small videos are analysed at their own size.
    ``color``: ``"bgr"`` (H, W, 3) uint8 or ``"gray"`` (H, W) uint8 (luma).
    """

    fps: float | None = None
    width: int = 160
    color: Literal["bgr", "gray"] = "gray"
    #: > 0: also hand over a central crop of about this many pixels square of the *native*
    #: (stored, unrotated) luma plane, aligned to the 8-px coding grid (``FrameBatch.crops``),
    #: for measures that need source-resolution detail (shot_quality.blockiness)
    luma_crop: int = 0


@dataclass(frozen=True)
class Requirements:
    frames: FrameSpec | None = None
    audio: bool = False
    needs: tuple[str, ...] = ()  # modules whose results must exist before this one finishes
    optional: tuple[str, ...] = ()  # modules whose results are used when present


@dataclass(frozen=True)
class ArraySpec:
    """Declared output array: dtype name and shape pattern.

    Shape entries are ints (fixed) or symbolic names (``"n"``, ``"shots"``...): arrays sharing
    a symbol within one module must agree on that dimension. ``allow_nan`` permits NaN.
    """

    dtype: str
    shape: tuple[int | str, ...]
    allow_nan: bool = False
    doc: str = ""


@dataclass
class VideoInfo:
    """What the runner knows about the video before decoding (from the probe)."""

    path: str
    fps: float
    frame_count: int  # estimate from the container; exact count is known after decoding
    duration_s: float
    width: int  # stored (coded) size
    height: int
    rotation: int
    has_audio: bool
    platform_id: str = ""
    video_id: str = ""
    result_store_root: str | None = None


@dataclass
class ModuleInputs:
    """Given to :meth:`Module.begin`."""

    info: VideoInfo
    upstream: dict[str, ModuleResult] = field(default_factory=dict)  # filled before finish()
    cache: dict[str, Any] = field(default_factory=dict)  # shared by all modules of one video
    device: str = "cpu"  # "cpu" or "cuda", resolved from extract.device
    batch_size_scale: float = 1.0  # <1 after a CUDA OOM: scale batch sizes by it (floor 1)


@dataclass
class FrameBatch:
    """A bounded run of consecutive sampled frames for one module."""

    indices: np.ndarray  # int64 (n,) source frame indices
    times: np.ndarray  # float64 (n,) presentation times in seconds
    frames: np.ndarray  # uint8 (n, H, W) gray or (n, H, W, 3) BGR at analysis size
    crops: np.ndarray | None = None  # uint8 (n, c, c') native luma crops when FrameSpec.luma_crop > 0


@dataclass
class ModuleResult:
    arrays: dict[str, np.ndarray]
    summary: dict[str, Any]


class Module:
    """Base class: subclass, set the class attributes, implement :meth:`finish`."""

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    #: default parameters; the keys are the only accepted ``extract.params.<name>`` keys
    defaults: ClassVar[dict[str, Any]] = {}
    outputs: ClassVar[dict[str, ArraySpec]] = {}
    summary_keys: ClassVar[tuple[str, ...]] = ()
    #: whether the module is in the default ``extract.modules`` list
    default_enabled: ClassVar[bool] = True
    #: whether the module runs batched work on ``inputs.device`` (makes the runner resolve
    #: CUDA, which imports torch)
    uses_device: ClassVar[bool] = False

    def __init__(self, params: dict[str, Any] | None = None) -> None:
        self.params: dict[str, Any] = {**self.defaults, **(params or {})}

    # --- declarations -------------------------------------------------------------------
    def requirements(self) -> Requirements:
        """What the module consumes; may depend on ``self.params``."""
        return Requirements()

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> str | None:
        """Extra validation of parameter values; return a problem or None (keys and types
        are checked against :attr:`defaults` by the registry)."""
        return None

    def applicable(self, info: VideoInfo) -> str | None:
        """Return a skip reason when the module cannot apply to this video, else None."""
        if self.requirements().audio and not info.has_audio:
            return "video has no audio stream"
        return None

    def warm_up(self, device: str) -> None:
        """Load heavy resources (a model) once per worker process, before its first video, so
        that video's time and timeout do not carry them. Default: nothing. The caller logs an
        error here and goes on; the same error then fails the videos that run the module."""
        return None

    # --- streaming hooks ----------------------------------------------------------------
    def begin(self, inputs: ModuleInputs) -> None:
        self.inputs = inputs

    def update(self, batch: FrameBatch) -> None:
        """Consume one batch of frames (only called when requirements().frames is set)."""
        return None

    def finish(self) -> ModuleResult:
        raise NotImplementedError


def batch_size(base: int, scale: float) -> int:
    """Batch size after OOM back-off: ``base * scale``, at least 1."""
    return max(1, int(base * scale))
