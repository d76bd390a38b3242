"""Synthetic test videos with known structure, written with PyAV (H.264 + optional AAC)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

FPS = 25
W, H = 192, 108


def _shot_frame(shot: int, t: int) -> np.ndarray:
    """A textured frame whose palette depends on the shot and which drifts slowly with t."""
    rng = np.random.default_rng(shot)
    base = rng.integers(30, 226, size=3)
    yy, xx = np.mgrid[0:H, 0:W]
    pattern = (np.sin((xx + 2 * t) / (6 + 3 * shot)) + np.cos((yy + t) / (5 + 2 * shot))) * 40
    img = np.clip(base[None, None, :] + pattern[..., None] * rng.uniform(0.5, 1.0, size=3), 0, 255)
    if shot % 2:  # a text-like band: dark bars on a light strip
        img[70:84, 20:170] = 235
        for x in range(24, 166, 9):
            img[73:81, x:x + 5] = 20
    return img.astype(np.uint8)


def make_video(path: Path, *, shots: list[int], dissolve_into: int | None = None, dissolve_len: int = 12,
               audio: bool = False, audio_seconds: float | None = None) -> dict[str, object]:
    """Shots of ``shots[i]`` frames joined by hard cuts, except that shot ``dissolve_into``
    starts with a ``dissolve_len``-frame cross-fade from the previous shot. Returns the truth:
    frames, cuts (first frame of each new shot) and gradual ([first, last] blended frame).
    ``audio_seconds`` (default: the video's length) lets the soundtrack outlast the picture;
    the container follows the suffix (.mp4, .mkv, ...)."""
    frames: list[np.ndarray] = []
    cuts: list[int] = []
    gradual: list[int] | None = None
    for k, n in enumerate(shots):
        start = len(frames)
        block = [_shot_frame(k, t) for t in range(n)]
        if k and k == dissolve_into:
            for i in range(dissolve_len):
                alpha = (i + 1) / (dissolve_len + 1)
                prev = _shot_frame(k - 1, shots[k - 1] + i).astype(np.float32)
                block[i] = (prev * (1 - alpha) + block[i].astype(np.float32) * alpha).astype(np.uint8)
            gradual = [start, start + dissolve_len - 1]
        elif k:
            cuts.append(start)
        frames.extend(block)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.options = {"crf": "18", "preset": "ultrafast", "g": "50"}
        if audio:
            a_s = out.add_stream("aac", rate=44100)
            a_s.layout = "stereo"
        for img in frames:
            for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
        if audio:
            seconds = len(frames) / FPS if audio_seconds is None else audio_seconds
            sr, n = 44100, int(seconds * 44100)
            t = np.arange(n) / sr
            sig = (0.2 * np.sin(2 * np.pi * 440 * t) * (1 + (np.sin(2 * np.pi * 2 * t) > 0))).astype(np.float32)
            for s in range(0, n, 1024):
                chunk = np.stack([sig[s:s + 1024]] * 2)
                fr = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="fltp", layout="stereo")
                fr.sample_rate = sr
                for pkt in a_s.encode(fr):
                    out.mux(pkt)
            for pkt in a_s.encode():
                out.mux(pkt)
    return {"frames": len(frames), "cuts": cuts, "gradual": gradual}


def make_vfr_video(path: Path, shots: list[tuple[int, float]]) -> list[float]:
    """Variable frame rate: shot k is ``shots[k][0]`` frames each lasting ``shots[k][1]`` s
    (a phone or screen recording). Returns the start time of every shot, then the end."""
    starts, t = [], 0.0
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=FPS)
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        vs.options = {"crf": "18", "preset": "ultrafast", "g": "50", "bf": "0"}
        vs.codec_context.time_base = Fraction(1, 1000)
        for k, (n, dt) in enumerate(shots):
            starts.append(t)
            for i in range(n):
                frame = av.VideoFrame.from_ndarray(_shot_frame(k, i), format="bgr24")
                frame.pts, frame.time_base = round(t * 1000), Fraction(1, 1000)
                for pkt in vs.encode(frame):
                    out.mux(pkt)
                t += dt
        for pkt in vs.encode():
            out.mux(pkt)
    return [*starts, t]
