"""Shared spectral front end for the tempo and embedding modules (numpy, scipy.fft).

We do not call librosa at run time: its first STFT/beat call in a process costs 1.5-12 s of
lazy imports and numba compilation, more than the whole extraction budget of a 30 s clip.
Everything here is a handful of vectorised numpy operations on a mono 22.05 kHz signal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.fft

ANALYSIS_SR = 22050
N_FFT = 1024
HOP = 256  # 11.6 ms at 22.05 kHz: onset frames for tempo, averaged for the embedding
N_MELS = 64
_STFT_BLOCK = 2048  # frames per FFT call (~24 s of audio, 8 MB of windowed frames)


def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 30.0,
                   fmax: float | None = None) -> np.ndarray:
    """Triangular, area-normalised (Slaney-style) mel filters, float32 (n_mels, n_fft//2+1)."""
    top = fmax if fmax is not None else sample_rate / 2.0
    pts = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(top), n_mels + 2))
    freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    lo, mid, hi = pts[:-2, None], pts[1:-1, None], pts[2:, None]
    tri = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    return (tri * (2.0 / (hi - lo))).astype(np.float32)


@dataclass
class Spectrogram:
    power: np.ndarray  # float32 (frames, n_fft//2+1) |STFT|^2
    log_mel: np.ndarray  # float32 (frames, n_mels) dB, floored at max - 80 dB
    sample_rate: int
    hop: int

    @property
    def fps(self) -> float:
        return self.sample_rate / self.hop


def spectrogram(y: np.ndarray, sample_rate: int = ANALYSIS_SR, n_fft: int = N_FFT,
                hop: int = HOP, n_mels: int = N_MELS) -> Spectrogram:
    """Centred Hann STFT power and log-mel of a mono signal."""
    x = np.asarray(y, dtype=np.float32)
    padded = np.pad(x, (n_fft // 2, n_fft // 2))
    if padded.size < n_fft:
        padded = np.pad(padded, (0, n_fft - padded.size))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft)[::hop]
    window = np.hanning(n_fft).astype(np.float32)
    # single-precision FFT (scipy's pocketfft keeps float32; numpy's upcasts to float64 at ~4x
    # the cost); |X|^2 as re^2 + im^2 in float32. In blocks of frames: at once, the windowed
    # frames, the complex spectrum and the squares took ~6x the power array (4 GB for an hour)
    power = np.empty((frames.shape[0], n_fft // 2 + 1), dtype=np.float32)
    for s in range(0, frames.shape[0], _STFT_BLOCK):
        spec = scipy.fft.rfft(frames[s:s + _STFT_BLOCK] * window, axis=1)
        out = power[s:s + _STFT_BLOCK]
        np.square(spec.real, out=out)
        out += spec.imag ** 2
    mel = power @ mel_filterbank(sample_rate, n_fft, n_mels).T
    log_mel = 10.0 * np.log10(np.maximum(mel, 1e-10))
    log_mel = np.maximum(log_mel, log_mel.max() - 80.0).astype(np.float32)
    return Spectrogram(power=power, log_mel=log_mel, sample_rate=sample_rate, hop=hop)


def cached_spectrogram(key: str, y: np.ndarray, cache: dict[str, Any] | None) -> Spectrogram:
    """:func:`spectrogram` of the analysis signal, memoised per video in the runner's cache."""
    if cache is None:
        return spectrogram(y)
    full = f"audio.spectrogram:{key}"
    if full not in cache:
        cache[full] = spectrogram(y)
    result: Spectrogram = cache[full]
    return result
