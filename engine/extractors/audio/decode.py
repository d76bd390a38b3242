"""Decode the first audio stream of a file with PyAV into float32 planar samples.

``decode_audio`` returns :class:`DecodedAudio` ``(channels, n)`` at the native rate (or a
requested rate, via ``av.AudioResampler``) with the FFmpeg channel names, so that LFE can be
identified; ``None`` when the file has no audio stream (that is not an error: audio modules
are then skipped). Files that cannot be opened or whose audio does not decode raise
:mod:`engine.errors` exceptions.

Frames are converted to planar float as they arrive and concatenated once at the end, so
peak memory is about twice the float32 signal (a 10-min 48 kHz stereo track: ~230 MB).

``mono_analysis`` derives the mono, reduced-rate signal that tempo and embedding modules
share; ``cached_*`` memoise both in the runner's per-video cache so one video decodes once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from engine.errors import MissingFile, NotAVideo, Undecodable
from engine.extractors.base import SkipModule

# Channel order FFmpeg assumes for an unlabelled layout ("2 channels", "6 channels"): the
# WAVE/SMPTE default order L R C LFE Ls Rs.
_DEFAULT_ORDER = ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR")


@dataclass
class DecodedAudio:
    samples: np.ndarray  # float32 (channels, n), nominal full scale +-1.0
    sample_rate: int
    channel_names: list[str]  # FFmpeg names: FL FR FC LFE BL BR SL SR ...; "M" for mono
    codec: str
    layout: str

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / float(self.sample_rate) if self.sample_rate else 0.0


def _channel_names(layout: Any, channels: int) -> list[str]:
    names = [str(getattr(c, "name", "NONE")) for c in getattr(layout, "channels", ())]
    if len(names) != channels or any(n in ("NONE", "", "?") for n in names):
        if channels == 1:
            return ["M"]
        # unlabelled layouts (e.g. WAV without a channel mask): use the default order
        names = [_DEFAULT_ORDER[i] if i < len(_DEFAULT_ORDER) else f"C{i}" for i in range(channels)]
    if names == ["FC"]:
        return ["M"]
    return names


def _open(path: str) -> Any:
    if not os.path.exists(path):
        raise MissingFile(f"file not found: {path}")
    if os.path.getsize(path) == 0:
        raise NotAVideo(f"file is empty (0 bytes): {path}")
    try:
        return av.open(path)
    except av.error.InvalidDataError as exc:
        raise NotAVideo(f"not a media container FFmpeg can read: {path} ({exc})") from None
    except av.error.FFmpegError as exc:
        raise Undecodable(f"cannot open {path}: {exc}") from None


def has_audio_stream(path: str) -> bool:
    with _open(path) as container:
        return bool(container.streams.audio)


def _frames(container: Any, stream: Any, packets: list[int]) -> Any:
    """``container.decode(stream)``, counting the non-empty packets in ``packets[0]``."""
    for packet in container.demux(stream):
        packets[0] += packet.size > 0
        yield from packet.decode()


def decode_audio(path: str, sample_rate: int | None = None) -> DecodedAudio | None:
    """Decode the first audio stream; ``None`` when there is none; :class:`SkipModule` when it
    is empty (a track with no packets: nothing to measure, not damaged data).

    ``sample_rate`` resamples (FFmpeg swresample) to that rate; ``None`` keeps the native one.
    """
    with _open(path) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        codec = str(ctx.name)
        # fltp gives planar float in [-1, 1] for every input format (s16, s32/24-bit, flt...)
        resampler = av.AudioResampler(format="fltp", layout=None, rate=sample_rate)
        # per block, one 1-D array per channel: a (channels, n) array, or a list of plane copies
        # (native fltp frames; no per-frame stack)
        blocks: list[Any] = []
        layout: Any = None
        rate = 0
        stream.thread_type = "AUTO"
        direct = sample_rate is None  # native-rate planar float frames are taken as they are
        packets = [0]
        try:
            for frame in _frames(container, stream, packets):
                if layout is None:
                    layout = frame.layout
                if direct and frame.format.name == "fltp" and frame.layout.name == layout.name and \
                        (not rate or rate == frame.sample_rate):
                    rate = int(frame.sample_rate)
                    n = frame.samples
                    planes: Any = frame.planes
                    # copied: a view would keep the whole frame alive (its buffer pool slot is
                    # larger than the samples: 2.25x the signal for AAC, measured)
                    blocks.append([np.frombuffer(pl, np.float32, n).copy() for pl in planes])
                    continue
                for out in resampler.resample(frame):
                    rate = int(out.sample_rate)
                    blocks.append(out.to_ndarray())
            for out in resampler.resample(None):
                rate = int(out.sample_rate)
                blocks.append(out.to_ndarray())
        except av.error.FFmpegError as exc:
            raise Undecodable(f"audio stream of {path} does not decode: {exc}") from None
        except ValueError as exc:  # inconsistent frames (layout/rate change mid-stream)
            raise Undecodable(f"audio stream of {path} changes format mid-stream: {exc}") from None
    if not blocks and not packets[0]:
        raise SkipModule("audio stream is empty (no packets)")
    if not blocks:
        raise Undecodable(f"audio stream of {path} ({codec}) yielded no decodable samples")
    n_ch = len(blocks[0])
    if any(len(b) != n_ch for b in blocks):
        raise Undecodable(f"audio stream of {path} changes channel count mid-stream")
    samples = np.empty((n_ch, sum(len(b[0]) for b in blocks)), np.float32)
    for c in range(n_ch):
        np.concatenate([b[c] for b in blocks], out=samples[c])
    if not np.all(np.isfinite(samples)):
        raise Undecodable(f"audio stream of {path} decodes to non-finite samples")
    names = _channel_names(layout, samples.shape[0])
    layout_name = str(getattr(layout, "name", f"{samples.shape[0]} channels"))
    return DecodedAudio(samples=samples, sample_rate=rate or int(ctx.sample_rate or 0),
                        channel_names=names, codec=codec, layout=layout_name)


def mono_analysis(audio: DecodedAudio, sample_rate: int = 22050) -> np.ndarray:
    """Mean of the non-LFE channels, resampled (soxr) to ``sample_rate``; float32 (n,)."""
    keep = [i for i, n in enumerate(audio.channel_names) if n != "LFE"] or [0]
    mono = (audio.samples if len(keep) == audio.channels else audio.samples[keep]).mean(axis=0)
    if audio.sample_rate != sample_rate and mono.size:
        mono = _resample(mono, audio.sample_rate, sample_rate)
    return np.ascontiguousarray(mono, dtype=np.float32)


def _resample(x: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    try:  # soxr ships with librosa; it is ~10x faster than a polyphase FIR here
        import soxr

        return np.asarray(soxr.resample(x, rate_in, rate_out, quality="MQ"))
    except ImportError:  # pragma: no cover - fallback without soxr
        from fractions import Fraction

        from scipy.signal import resample_poly

        ratio = Fraction(rate_out, rate_in)
        return np.asarray(resample_poly(x, ratio.numerator, ratio.denominator))


_NATIVE_KEY = "audio.decoded"


def cached_audio(path: str, cache: dict[str, Any] | None) -> DecodedAudio | None:
    """``decode_audio(path)`` memoised in the runner's per-video ``cache``."""
    if cache is None:
        return decode_audio(path)
    key = f"{_NATIVE_KEY}:{path}"
    if key not in cache:
        try:
            cache[key] = decode_audio(path)
        except SkipModule as exc:  # an empty track: every audio module skips, one demux pass
            cache[key] = exc
    if isinstance(cache[key], SkipModule):
        raise cache[key]
    result: DecodedAudio | None = cache[key]
    return result


def cached_mono(path: str, cache: dict[str, Any] | None, sample_rate: int = 22050) -> tuple[np.ndarray, int] | None:
    """Mono analysis signal at ``sample_rate`` (memoised), or ``None`` without audio."""
    audio = cached_audio(path, cache)
    if audio is None:
        return None
    if cache is None:
        return mono_analysis(audio, sample_rate), sample_rate
    key = f"audio.mono{sample_rate}:{path}"
    if key not in cache:
        cache[key] = mono_analysis(audio, sample_rate)
    return cache[key], sample_rate
