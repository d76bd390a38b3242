"""Tempo on click tracks and the spectral-v1 embedding, on signals generated here."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from engine.extractors.audio import spectral
from engine.extractors.audio.clap import SPECTRAL_DIM, spectral_embedding
from engine.extractors.audio.clap_checkpoint import BadCheckpoint
from engine.extractors.audio.spectral import spectrogram
from engine.extractors.audio.tempo import estimate
from tests.unit.audio.audio_synth import clicks, run_module, sine, write_audio

SR = 22050


@pytest.mark.parametrize("bpm", [90.0, 120.0, 140.0])
def test_click_track_tempo_within_2_percent(bpm: float) -> None:
    y = clicks(bpm, 20.0, SR)
    t = estimate(spectrogram(y), y.size / SR)
    assert t.bpm is not None and abs(t.bpm / bpm - 1) < 0.02
    # the octave alternatives are reported, not hidden
    assert any(abs(c / (bpm / 2) - 1) < 0.03 or abs(c / (bpm * 2) - 1) < 0.03 for c in t.candidates_bpm)
    ibi = np.median(np.diff(t.beat_times_s))
    assert abs(ibi / (60.0 / bpm) - 1) < 0.03
    assert t.beat_times_s.size >= 0.8 * 20.0 * bpm / 60.0
    assert 0.0 < t.confidence <= 1.0


def test_tempo_undefined_for_short_or_silent() -> None:
    short = clicks(120, 2.0, SR)
    assert estimate(spectrogram(short), 2.0).bpm is None
    silent = np.zeros(SR * 5, np.float32)
    r = estimate(spectrogram(silent), 5.0)
    assert r.bpm is None and r.reason


def test_tempo_module_on_mp4(tmp_path) -> None:
    y = clicks(120, 12.0, 48000)
    path = write_audio(tmp_path / "c.mp4", np.stack([y, y]), 48000, "aac", "stereo", "fltp")
    _, res = run_module("tempo", path)
    assert abs(res.summary["bpm"] / 120 - 1) < 0.02
    assert res.arrays["candidates_bpm"][0] == pytest.approx(res.summary["bpm"], abs=0.01)


@pytest.mark.parametrize("seconds", [0.04, 0.2, 0.9])
def test_tempo_module_under_one_second_is_undefined_not_a_crash(tmp_path, seconds: float) -> None:
    # the 1 s onset detrending window is longer than the whole envelope here; a 1-frame or
    # 0.2 s clip (an operator's real input) must give bpm None, not a broadcasting error
    y = clicks(120, seconds, 44100) + sine(440, 0.1, seconds, 44100)
    path = write_audio(tmp_path / "s.mp4", np.stack([y, y]), 44100, "aac", "stereo", "fltp")
    _, res = run_module("tempo", path)
    assert res.summary["bpm"] is None and res.summary["reason"] == "shorter than 3 s"
    spec = spectrogram(y[: int(0.5 * 22050)])
    assert estimate(spec, 0.5).onset_strength.shape == (spec.log_mel.shape[0],)


def test_spectrogram_memory_is_bounded_and_blocks_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # the whole STFT at once (windowed frames, complex spectrum, squares) peaked at ~4.5x the
    # power array it returns; in blocks of frames ~2x, with bit-identical values
    y = (0.1 * np.random.default_rng(5).standard_normal(SR * 180)).astype(np.float32)
    tracemalloc.start()
    try:
        spec = spectrogram(y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * spec.power.nbytes
    monkeypatch.setattr(spectral, "_STFT_BLOCK", 1 << 30)  # one FFT call
    one = spectrogram(y)
    assert np.array_equal(spec.power, one.power) and np.array_equal(spec.log_mel, one.log_mel)


def test_spectral_embedding_is_unit_norm_and_discriminative() -> None:
    tone = spectrogram(sine(440, 0.3, 5, SR))
    tone2 = spectrogram(sine(440, 0.1, 5, SR, phase=1.0))
    noise = spectrogram(np.random.default_rng(0).standard_normal(SR * 5).astype(np.float32) * 0.1)
    e1, s1 = spectral_embedding(tone)
    e2, _ = spectral_embedding(tone2)
    e3, _ = spectral_embedding(noise)
    assert e1.shape == (SPECTRAL_DIM,) and not s1
    assert np.linalg.norm(e1) == pytest.approx(1.0, abs=1e-5)
    assert float(e1 @ e2) > float(e1 @ e3) + 0.1
    zero, silent = spectral_embedding(spectrogram(np.zeros(SR * 2, np.float32)))
    assert silent and not zero.any()


def test_clap_module_names_its_real_backend(tmp_path) -> None:
    y = sine(440, 0.3, 4, 48000)
    path = write_audio(tmp_path / "t.flac", np.stack([y, y]), 48000, "flac", "stereo", "s16")
    cache: dict = {}
    _, res = run_module("clap", path, cache=cache)
    assert res.summary["backend"] == "spectral-v1" and "clap" not in res.summary["backend"]
    assert res.arrays["embedding"].shape == (SPECTRAL_DIM,)
    with pytest.raises(BadCheckpoint, match="no such file"):
        run_module("clap", path, params={"checkpoint": "/nonexistent/clap.pt"})
