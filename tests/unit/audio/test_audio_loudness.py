"""Loudness (BS.1770-4 / EBU R128) on signals generated here: Tech 3341-style tones, 5.1, edge cases."""

from __future__ import annotations

import json
import math
import tracemalloc

import av
import numpy as np
import pytest
from scipy import signal

from engine.extractors.audio import loudness
from engine.extractors.audio.loudness import _tp_filter, k_weighting_sos, measure, true_peak
from tests.unit.audio.audio_synth import run_module, sine, write_audio, write_silent_video

SR = 48000


def _amp_for(lufs: float, n_channels: int = 2) -> float:
    # a 997 Hz sine sees +0.691 dB of K-weighting, which cancels BS.1770's -0.691 offset:
    # L = 10 log10(n * A^2 / 2)  =>  A = sqrt(2 * 10^(L/10) / n)
    return math.sqrt(2 * 10 ** (lufs / 10) / n_channels)


def test_k_weighting_matches_bs1770_coefficients_at_48k() -> None:
    sos = k_weighting_sos(48000)
    np.testing.assert_allclose(sos[0], [1.53512485958697, -2.69169618940638, 1.19839281085285,
                                        1.0, -1.69065929318241, 0.73248077421585], atol=1e-7)
    np.testing.assert_allclose(sos[1], [1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621], atol=1e-7)


@pytest.mark.parametrize("target", [-23.0, -33.0])
def test_stereo_tone_reads_target(target: float) -> None:
    a = _amp_for(target)
    x = np.stack([sine(997, a, 20), sine(997, a, 20)])
    r = measure(x, SR, ["FL", "FR"])
    assert r.integrated_lufs == pytest.approx(target, abs=0.05)
    assert r.max_momentary_lufs == pytest.approx(target, abs=0.05)
    assert r.max_short_term_lufs == pytest.approx(target, abs=0.05)
    assert r.loudness_range_lu == pytest.approx(0.0, abs=0.05)
    assert r.true_peak_dbtp == pytest.approx(20 * math.log10(a), abs=0.05)


def test_tech3341_case1_definition_1khz_at_minus23_dbfs() -> None:
    # Tech 3341 case 1: 1 kHz, -23 dBFS per channel, stereo -> -23.0 LUFS +-0.1
    a = 10 ** (-23 / 20)
    r = measure(np.stack([sine(1000, a, 20)] * 2), SR, ["FL", "FR"])
    assert r.integrated_lufs == pytest.approx(-23.0, abs=0.1)


def test_mono_is_one_channel_at_weight_one() -> None:
    a = _amp_for(-20.0, n_channels=1)
    r = measure(sine(997, a, 10)[None, :], SR, ["M"])
    assert r.integrated_lufs == pytest.approx(-20.0, abs=0.05)


def test_surround_weight_and_lfe_excluded_in_5_1() -> None:
    a = _amp_for(-23.0)
    n = 10
    front = np.stack([sine(997, a, n), sine(997, a, n)] + [np.zeros(n * SR, np.float32)] * 4)
    loud_lfe = front.copy()
    loud_lfe[3] = sine(60, 0.9, n)  # a loud LFE must not count
    names = ["FL", "FR", "FC", "LFE", "BL", "BR"]
    assert measure(loud_lfe, SR, names).integrated_lufs == pytest.approx(
        measure(front, SR, names).integrated_lufs, abs=1e-6)
    surround = np.zeros_like(front)
    surround[4] = surround[5] = sine(997, a, n)  # same tone on Ls/Rs: +1.5 dB (x1.41)
    got = measure(surround, SR, names).integrated_lufs
    assert got == pytest.approx(-23.0 + 10 * math.log10(1.41), abs=0.05)


def test_silence_and_short_clips_use_documented_sentinels() -> None:
    r = measure(np.zeros((2, SR * 5), np.float32), SR, ["FL", "FR"])
    assert r.silent and r.integrated_lufs is None and r.true_peak_dbtp is None
    assert np.all(r.momentary_lufs == -120.0)
    short = measure(np.stack([sine(997, 0.1, 1.0)] * 2), SR, ["FL", "FR"])
    assert short.integrated_lufs is not None and short.max_momentary_lufs is not None
    assert short.loudness_range_lu is None and short.max_short_term_lufs is None
    assert short.short_term_lufs.size == 0
    tiny = measure(np.stack([sine(997, 0.1, 0.2)] * 2), SR, ["FL", "FR"])
    assert tiny.integrated_lufs is None and tiny.momentary_lufs.size == 0
    # no 400 ms gating block exists: a tone under 400 ms is not "silent" (it read true)
    assert not tiny.silent
    assert measure(np.stack([sine(997, 1e-5, 0.2)] * 2), SR, ["FL", "FR"]).silent  # ~-97 LUFS
    assert measure(np.zeros((2, 4800), np.float32), SR, ["FL", "FR"]).silent
    assert measure(np.zeros((2, 0), np.float32), SR, ["FL", "FR"]).silent


def test_relative_gate_drops_quiet_passages() -> None:
    # 10 s at -20 LUFS then 10 s at -40 LUFS: the quiet half is > 10 LU below -> gated out
    loud, quiet = _amp_for(-20.0), _amp_for(-40.0)
    x = np.concatenate([sine(997, loud, 10), sine(997, quiet, 10)])
    r = measure(np.stack([x, x]), SR, ["FL", "FR"])
    assert r.integrated_lufs == pytest.approx(-20.0, abs=0.1)
    assert r.loudness_range_lu == pytest.approx(20.0, abs=0.5)


def test_true_peak_finds_intersample_peak() -> None:
    # fs/4 tone at 45 deg phase: samples sit 3 dB below the waveform's peak
    n = np.arange(SR)
    env = np.minimum(1.0, np.minimum(n, SR - n) / 4800.0)  # faded: no edge overshoot
    x = (0.5 * env * np.sin(2 * np.pi * 12000 * n / SR + np.pi / 4)).astype(np.float32)
    assert 20 * np.log10(np.abs(x).max()) < -8.9
    assert 20 * np.log10(true_peak(x[None, :], SR)) == pytest.approx(-6.02, abs=0.1)


def test_true_peak_memory_is_bounded_on_a_long_loud_track() -> None:
    # every block of a loud track may beat the sample peak: oversampling that one run whole
    # held ~9x the signal in float64 (GBs for an hour); runs are now capped, same value
    rng = np.random.default_rng(3)
    x = (0.3 * rng.standard_normal(SR * 40)).astype(np.float32)[None, :]
    tracemalloc.start()
    try:
        tp = true_peak(x, SR)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * x.nbytes  # the block maxima scan (1x) + one capped run (~5 MB); was 17x
    whole = signal.resample_poly(x[0], 4, 1, window=_tp_filter(4), padtype="constant")
    assert tp == pytest.approx(max(float(np.abs(x).max()), float(np.abs(whole).max())), rel=1e-12)


def test_measure_memory_is_one_cumulative_sum_not_per_channel_copies(monkeypatch: pytest.MonkeyPatch) -> None:
    # the K-weighting ran on a whole float64 copy of each channel (and its whole output), the
    # sample peak on a whole |x|: 4x the signal on top of it; chunked (the filter state carries
    # over): the same values as one call per channel
    rng = np.random.default_rng(4)
    x = (0.1 * rng.standard_normal((2, SR * 40))).astype(np.float32)
    tracemalloc.start()
    try:
        r = measure(x, SR, ["FL", "FR"], with_true_peak=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.6 * x.nbytes  # the float64 cumulative power (1x for stereo float32) + chunks
    monkeypatch.setattr(loudness, "_FILTER_CHUNK", x.shape[1])  # one call per channel
    one = measure(x, SR, ["FL", "FR"], with_true_peak=False)
    assert (r.integrated_lufs, r.loudness_range_lu, r.max_momentary_lufs) == \
        (one.integrated_lufs, one.loudness_range_lu, one.max_momentary_lufs)
    assert np.array_equal(r.momentary_lufs, one.momentary_lufs)


def test_module_on_flac_aac_and_no_audio(tmp_path) -> None:
    a = _amp_for(-23.0)
    tone = sine(997, a, 6)
    stereo = write_audio(tmp_path / "s.flac", np.stack([tone, tone]), SR, "flac", "stereo", "s16")
    cls, res = run_module("loudness", stereo)
    assert res.summary["integrated_lufs"] == pytest.approx(-23.0, abs=0.05)
    json.dumps(res.summary, allow_nan=False)
    assert res.arrays["momentary_lufs"].shape == res.arrays["momentary_times_s"].shape
    from engine.extractors.validate import check_result
    assert check_result(cls, res) == []

    six = np.stack([tone, tone, np.zeros_like(tone), sine(60, 0.5, 6), np.zeros_like(tone), np.zeros_like(tone)])
    mp4 = write_audio(tmp_path / "s51.mp4", six, SR, "aac", "5.1", "fltp")
    _, res51 = run_module("loudness", mp4)
    assert res51.summary["channels"] == 6 and res51.summary["channel_weights"][3] == 0.0
    assert res51.summary["integrated_lufs"] == pytest.approx(-23.0, abs=0.15)  # AAC at default bitrate

    from engine.extractors.base import SkipModule
    with pytest.raises(SkipModule, match="no audio"):
        run_module("loudness", write_silent_video(tmp_path / "v.mp4"))


def test_undecodable_file_raises_engine_error(tmp_path) -> None:
    from engine.errors import PermanentError
    from engine.extractors.audio.decode import decode_audio

    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"this is not media" * 100)
    with pytest.raises(PermanentError):
        decode_audio(str(bad))


def test_empty_audio_track_skips_the_audio_modules(tmp_path) -> None:
    # an audio stream with no packets (a recorder with no input): nothing to measure, the
    # video is fine -- it failed permanently as "yielded no decodable samples"
    from tests.extractors_support.run import extract

    path = tmp_path / "empty_track.mkv"  # (the mp4 muxer drops an empty track)
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=10)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        out.add_stream("aac", rate=48000, layout="stereo")
        for i in range(30):
            img = np.full((48, 64, 3), i * 8 % 255, np.uint8)
            for packet in video.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
    manifest, _ = extract(path, tmp_path / "rs", {"extract.modules": ["loudness", "tempo", "clap", "cut_detection"]})
    assert manifest["status"] == "complete"
    comps = manifest["components"]
    for name in ("loudness", "tempo", "clap"):
        assert comps[name]["status"] == "skipped" and comps[name]["reason"] == "audio stream is empty (no packets)"
    assert comps["cut_detection"]["status"] == "done"
