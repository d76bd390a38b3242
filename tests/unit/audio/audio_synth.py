"""Synthetic audio for the audio-extractor tests: tones, click tracks, files written with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from engine.extractors.base import ModuleInputs, VideoInfo


def sine(freq: float, amp: float, seconds: float, sr: int = 48000, phase: float = 0.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t + phase)).astype(np.float32)


def clicks(bpm: float, seconds: float = 20.0, sr: int = 22050) -> np.ndarray:
    """Decaying 1 kHz blips every beat (a metronome)."""
    y = np.zeros(int(seconds * sr), np.float32)
    n = np.arange(int(0.03 * sr))
    blip = np.sin(2 * np.pi * 1000 * n / sr) * np.exp(-n / (0.005 * sr))
    for t in np.arange(0.1, seconds - 0.1, 60.0 / bpm):
        s = int(t * sr)
        y[s:s + blip.size] += blip[: y.size - s]
    return 0.3 * y


def write_audio(path: Path, samples: np.ndarray, sr: int, codec: str, layout: str,
                fmt: str = "s16p") -> Path:
    """Encode planar float ``samples`` (channels, n) into ``path`` with PyAV."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=sr, layout=layout)
        stream.format = fmt
        frame_size = stream.codec_context.frame_size or 1024
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=sr)
        pts = 0
        for start in range(0, samples.shape[1], frame_size):
            block = np.ascontiguousarray(samples[:, start:start + frame_size], dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = sr
            frame.pts = pts
            frame.time_base = Fraction(1, sr)
            pts += block.shape[1]
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def write_silent_video(path: Path, frames: int = 10) -> Path:
    """A short MPEG-4 video with no audio stream."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            img = np.full((48, 64, 3), i * 20 % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def run_module(name: str, path: Path, params: dict | None = None, cache: dict | None = None):
    """Run one registered audio module on ``path`` as the runner would (begin + finish)."""
    from engine.extractors.registry import module_class

    cls = module_class(name)
    module = cls(params or {})
    info = VideoInfo(path=str(path), fps=0.0, frame_count=0, duration_s=0.0, width=0, height=0,
                     rotation=0, has_audio=True)
    module.begin(ModuleInputs(info=info, cache={} if cache is None else cache))
    return cls, module.finish()
