"""Audio modules against the real media and truth in ../shared/media (skipped when absent)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from engine.extractors.audio.decode import decode_audio, mono_analysis
from engine.extractors.audio.loudness import measure
from engine.extractors.audio.spectral import spectrogram
from engine.extractors.audio.tempo import estimate

MEDIA = Path(__file__).resolve().parents[3].parent / "shared" / "media"
pytestmark = pytest.mark.shared


def _truth() -> dict:
    if not (MEDIA / "media_truth.json").is_file():
        pytest.skip("../shared/media is not present")
    return json.loads((MEDIA / "media_truth.json").read_text())


_KEYS = {"integrated_LUFS": "integrated_lufs", "max_short_term_LUFS": "max_short_term_lufs",
         "max_momentary_LUFS": "max_momentary_lufs"}


def _loudness_cases() -> list[tuple[str, str]]:
    path = MEDIA / "media_truth.json"
    if not path.is_file():
        return [("missing", "integrated_LUFS")]
    truth = json.loads(path.read_text())
    return [(name, key) for name, entry in truth.items() if isinstance(entry, dict)
            for key in _KEYS if entry.get(key) is not None]


@pytest.mark.parametrize(("name", "key"), _loudness_cases())
def test_ebu_itu_loudness_within_tolerance(name: str, key: str) -> None:
    entry = _truth()[name]
    audio = decode_audio(str(MEDIA / name))
    assert audio is not None
    r = measure(audio.samples, audio.sample_rate, audio.channel_names)
    got = getattr(r, _KEYS[key])
    assert got is not None and abs(got - entry[key]) <= entry.get("tolerance_LU", 0.1)


def test_tempo_truth_within_2_percent() -> None:
    truth = _truth()
    cases = [(n, e["tempo_bpm"]) for n, e in truth.items() if isinstance(e, dict) and e.get("tempo_bpm")]
    assert cases
    for name, bpm in cases:
        audio = decode_audio(str(MEDIA / name))
        assert audio is not None
        y = mono_analysis(audio)
        t = estimate(spectrogram(y), y.size / 22050)
        assert t.bpm is not None and abs(t.bpm / bpm - 1) < 0.02, (name, t.bpm, bpm)


def test_has_audio_truth_and_5_1_aac_decodes() -> None:
    truth = _truth()
    for name, entry in truth.items():
        if isinstance(entry, dict) and "has_audio" in entry:
            assert (decode_audio(str(MEDIA / name)) is not None) == entry["has_audio"], name
    audio = decode_audio(str(MEDIA / "video" / "bigbuckbunny.mp4"))
    assert audio is not None and audio.channels == truth["video/bigbuckbunny.mp4"]["audio_channels"]
    assert "LFE" in audio.channel_names
    r = measure(audio.samples, audio.sample_rate, audio.channel_names)
    assert r.integrated_lufs is not None and math.isfinite(r.integrated_lufs) and -60 < r.integrated_lufs < 0


def test_music_with_cover_art_stream_runs_all_modules() -> None:
    _truth()
    from tests.unit.audio.audio_synth import run_module

    path = MEDIA / "audio" / "Kevin_MacLeod_-_Vibe_Ace.hq.ogg"
    cache: dict = {}
    for name in ("loudness", "tempo", "clap"):
        _, res = run_module(name, path, cache=cache)
        json.dumps(res.summary, allow_nan=False)
    assert res.summary["backend"] == "spectral-v1"
