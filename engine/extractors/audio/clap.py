"""Audio embedding: a CLAP checkpoint when configured, else a weight-free spectral embedding.

- ``checkpoint`` set: load it with ``transformers`` (a ``ClapModel`` directory) or
  ``laion_clap`` (a ``.pt``/``.ckpt`` file) and embed 48 kHz mono, in 10 s windows averaged
  (:mod:`engine.extractors.audio.clap_checkpoint`); ``backend`` names the library. A missing
  library or an unusable path is a clear permanent error saying what to do.
- ``checkpoint`` empty: ``backend: "spectral-v1"``, a fixed-size (:data:`SPECTRAL_DIM`)
  L2-normalised vector of spectral statistics. It is *not* CLAP and never claims to be: it
  has no text tower and no learned semantics; it is for near-duplicate and timbre similarity.

spectral-v1 layout (from the shared 22.05 kHz, 1024/256 STFT and 64-band log-mel):
log-mel mean (64) + std (64), MFCC 1-20 mean (20) + std (20), spectral contrast in 7 octave
bands mean (7) + std (7), chroma mean (12), spectral flux mean/std, RMS dB mean/std
(4) = 198. Each group is L2-normalised on its own (so no group dominates by scale), then the
concatenation is divided by sqrt(n_groups): the result has unit norm. Digital silence gives
the zero vector with ``silent: true``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy.fft import dct

from engine.extractors.audio.clap_checkpoint import (
    SAMPLE_RATE,
    check_checkpoint,
    clap_embedding,
    preload,
)
from engine.extractors.audio.decode import cached_audio, cached_mono, mono_analysis
from engine.extractors.audio.spectral import (
    ANALYSIS_SR,
    N_FFT,
    Spectrogram,
    cached_spectrogram,
)
from engine.extractors.base import (
    ArraySpec,
    Module,
    ModuleInputs,
    ModuleResult,
    Requirements,
    SkipModule,
)

SPECTRAL_BACKEND = "spectral-v1"
SPECTRAL_DIM = 198
_SILENCE_RMS = 1e-6  # ~ -120 dBFS


def _octave_edges(sample_rate: int, n_fft: int) -> list[tuple[int, int]]:
    """FFT bin ranges of 7 bands: <200 Hz, then octaves from 200 Hz up to Nyquist."""
    edges_hz = [0.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, sample_rate / 2.0]
    bins = [int(round(f * n_fft / sample_rate)) for f in edges_hz]
    return [(a, max(b, a + 1)) for a, b in zip(bins[:-1], bins[1:], strict=True)]


def _contrast(power: np.ndarray, sample_rate: int, n_fft: int, quantile: float = 0.2) -> np.ndarray:
    """Spectral contrast (dB): mean of the top minus bottom ``quantile`` of each band's bins."""
    log_p = 10.0 * np.log10(power + 1e-10)
    out = []
    for a, b in _octave_edges(sample_rate, n_fft):
        band = np.sort(log_p[:, a:b], axis=1)
        k = max(1, int(round(quantile * band.shape[1])))
        out.append(band[:, -k:].mean(axis=1) - band[:, :k].mean(axis=1))
    return np.stack(out, axis=1)


def _chroma(power: np.ndarray, sample_rate: int, n_fft: int) -> np.ndarray:
    """Energy share per pitch class (bins 55 Hz-5 kHz folded onto 12 semitones)."""
    freqs = np.arange(power.shape[1]) * sample_rate / n_fft
    keep = (freqs >= 55.0) & (freqs <= 5000.0)
    pitch_class = np.round(12.0 * np.log2(freqs[keep] / 440.0)).astype(np.int64) % 12
    # a (bins, 12) one-hot fold as one matrix product: np.add.at took 30 ms of the 40 ms embedding
    fold = np.zeros((pitch_class.size, 12), dtype=np.float64)
    fold[np.arange(pitch_class.size), pitch_class] = 1.0
    folded = power[:, keep].astype(np.float64) @ fold
    total = folded.sum(axis=1, keepdims=True)
    return folded / np.maximum(total, 1e-12)


def spectral_embedding(spec: Spectrogram) -> tuple[np.ndarray, bool]:
    """(embedding float32 (SPECTRAL_DIM,), silent) of a spectrogram (see module docstring)."""
    frame_energy = spec.power.mean(axis=1)
    if spec.power.size == 0 or float(np.sqrt(frame_energy.max())) < _SILENCE_RMS:
        return np.zeros(SPECTRAL_DIM, dtype=np.float32), True
    lm = spec.log_mel.astype(np.float64)
    mfcc = dct(lm, type=2, axis=1, norm="ortho")[:, :20]
    contrast = _contrast(spec.power, spec.sample_rate, N_FFT)
    chroma = _chroma(spec.power, spec.sample_rate, N_FFT)
    flux = np.maximum(np.diff(lm, axis=0), 0.0).mean(axis=1) if lm.shape[0] > 1 else np.zeros(1)
    rms_db = 10.0 * np.log10(frame_energy + 1e-10)
    groups = [
        lm.mean(axis=0), lm.std(axis=0), mfcc.mean(axis=0), mfcc.std(axis=0),
        contrast.mean(axis=0), contrast.std(axis=0), chroma.mean(axis=0),
        np.array([flux.mean(), flux.std(), rms_db.mean(), rms_db.std()]),
    ]
    parts = []
    for g in groups:
        g = np.asarray(g, dtype=np.float64)
        norm = float(np.linalg.norm(g))
        parts.append(g / norm if norm > 0 else g)
    vec = np.concatenate(parts) / np.sqrt(len(groups))
    return vec.astype(np.float32), False


class ClapModule(Module):
    """Audio embedding of the first audio stream (see module docstring)."""

    name = "clap"
    version = "3"
    defaults: ClassVar[dict[str, Any]] = {"checkpoint": ""}
    outputs: ClassVar[dict[str, ArraySpec]] = {
        "embedding": ArraySpec("float32", ("d",), doc="L2-normalised audio embedding"),
    }
    summary_keys = ("backend", "dim", "silent")

    @classmethod
    def check_params(cls, params: dict[str, Any]) -> str | None:
        ckpt = str(params.get("checkpoint", ""))
        return check_checkpoint(ckpt) if ckpt else None

    def requirements(self) -> Requirements:
        return Requirements(frames=None, audio=True)

    def warm_up(self, device: str) -> None:
        checkpoint = str(self.params["checkpoint"])
        if checkpoint and check_checkpoint(checkpoint) is None:
            preload(checkpoint, device)

    def finish(self) -> ModuleResult:
        inputs: ModuleInputs = self.inputs
        checkpoint = str(self.params["checkpoint"])
        if checkpoint:
            audio = cached_audio(inputs.info.path, inputs.cache)
            if audio is None:
                raise SkipModule("video has no audio stream")
            emb, backend = clap_embedding(checkpoint, mono_analysis(audio, SAMPLE_RATE), inputs.device,
                                          max(1, int(8 * inputs.batch_size_scale)))
            norm = float(np.linalg.norm(emb))
            silent = norm == 0.0
            emb = emb / norm if norm > 0 else emb
        else:
            mono = cached_mono(inputs.info.path, inputs.cache, ANALYSIS_SR)
            if mono is None:
                raise SkipModule("video has no audio stream")
            spec = cached_spectrogram(inputs.info.path, mono[0], inputs.cache)
            emb, silent = spectral_embedding(spec)
            backend = SPECTRAL_BACKEND
        summary = {"backend": backend, "dim": int(emb.size), "silent": silent,
                   "checkpoint": checkpoint or None}
        return ModuleResult(arrays={"embedding": emb.astype(np.float32)}, summary=summary)
