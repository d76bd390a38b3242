"""A configured CLAP checkpoint, loaded and run for real: a tiny random-weight ``ClapModel``
that the test builds and saves (``save_pretrained``), so the loading, windowing and inference
code is exercised without downloading weights. Needs ``transformers`` (``vidops[clap]``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.extractors.audio.clap_checkpoint import (
    BadCheckpoint,
    MissingBackend,
    backend_for,
    check_checkpoint,
    clap_embedding,
    windows,
)
from tests.unit.audio.audio_synth import run_module, sine, write_audio

SR = 48000


@pytest.fixture(scope="module")
def tiny_clap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    import torch
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    cfg = ClapConfig(
        text_config={"vocab_size": 100, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                     "intermediate_size": 32, "max_position_embeddings": 64, "projection_dim": 8},
        # HTSAT geometry of the LAION checkpoints (256 spec, 64 mel bins, 4 stages), 8-64 channels
        audio_config={"depths": [1, 1, 1, 1], "num_attention_heads": [1, 1, 1, 1], "hidden_size": 64,
                      "patch_embeds_hidden_size": 8, "projection_dim": 8, "projection_hidden_size": 16,
                      "enable_fusion": False},
        projection_dim=8)
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("clap") / "tiny-clap"
    ClapModel(cfg).eval().save_pretrained(out)
    ClapFeatureExtractor(feature_size=64, sampling_rate=SR, max_length_s=10, truncation="rand_trunc").save_pretrained(out)
    return out


def _audio(tmp_path: Path, y: np.ndarray, name: str = "a.flac") -> Path:
    return write_audio(tmp_path / name, np.stack([y, y]), SR, "flac", "stereo", "s16")


def test_module_embeds_with_the_checkpoint_deterministically(tiny_clap: Path, tmp_path: Path) -> None:
    path = _audio(tmp_path, sine(440, 0.3, 4, SR))
    _, res = run_module("clap", path, params={"checkpoint": str(tiny_clap)})
    emb = res.arrays["embedding"]
    assert res.summary["backend"] == "transformers" and res.summary["dim"] == 8
    assert res.summary["checkpoint"] == str(tiny_clap)
    assert emb.dtype == np.float32 and np.isfinite(emb).all() and abs(float(np.linalg.norm(emb)) - 1) < 1e-5
    _, again = run_module("clap", path, params={"checkpoint": str(tiny_clap)})
    assert again.arrays["embedding"].tobytes() == emb.tobytes()


def test_embedding_depends_on_the_audio(tiny_clap: Path) -> None:
    rng = np.random.default_rng(0)
    a, _ = clap_embedding(str(tiny_clap), sine(440, 0.3, 3, SR))
    b, _ = clap_embedding(str(tiny_clap), (0.3 * rng.standard_normal(3 * SR)).astype(np.float32))
    cos = float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    assert cos < 0.9999  # the model really ran on the input


def test_long_audio_is_the_duration_weighted_mean_of_its_windows(tiny_clap: Path) -> None:
    rng = np.random.default_rng(1)
    y = (0.2 * rng.standard_normal(25 * SR)).astype(np.float32)  # 10 s + 10 s + 5 s windows
    parts = windows(y, 10 * SR)
    assert [p.size for p in parts] == [10 * SR, 10 * SR, 5 * SR]
    whole, _ = clap_embedding(str(tiny_clap), y, batch=2)  # batches of 2 windows: 2 + 1
    singles = [clap_embedding(str(tiny_clap), p)[0] for p in parts]
    expected = (2 * singles[0] + 2 * singles[1] + singles[2]) / 5
    np.testing.assert_allclose(whole, expected, rtol=1e-4, atol=1e-6)


def test_checkpoint_errors_name_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(BadCheckpoint, match="no such file"):
        backend_for(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadCheckpoint, match="no config.json"):
        backend_for(str(tmp_path / "empty"))
    (tmp_path / "w.bin").write_bytes(b"x")
    assert "unknown checkpoint file type '.bin'" in (check_checkpoint(str(tmp_path / "w.bin")) or "")
    ckpt = tmp_path / "m.ckpt"
    ckpt.write_bytes(b"x")
    assert backend_for(str(ckpt)) == "laion_clap"
    try:
        import laion_clap  # noqa: F401
    except ImportError:
        assert "pip install laion-clap" in (check_checkpoint(str(ckpt)) or "")
        with pytest.raises(MissingBackend, match="laion-clap"):
            clap_embedding(str(ckpt), np.zeros(SR, np.float32))


def test_a_directory_that_is_not_a_clap_model_fails_clearly(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text('{"model_type": "bert"}')
    with pytest.raises(BadCheckpoint, match="does not load as a ClapModel"):
        clap_embedding(str(bad), np.zeros(SR, np.float32))


def test_worker_warm_up_loads_the_checkpoint_once(tiny_clap: Path, caplog: pytest.LogCaptureFixture) -> None:
    from engine import extractors
    from engine.config import apply_overrides, load_settings
    from engine.extractors.audio import clap_checkpoint

    clap_checkpoint._transformers_model.cache_clear()
    settings = apply_overrides(load_settings(None), {"extract.params": {"clap": {"checkpoint": str(tiny_clap)}}})
    extractors.warm_up(settings.extract)
    assert clap_checkpoint._transformers_model.cache_info().currsize == 1
    clap_embedding(str(tiny_clap), sine(440, 0.3, 2, SR))  # the first video: no second load
    info = clap_checkpoint._transformers_model.cache_info()
    assert (info.currsize, info.hits, info.misses) == (1, 1, 1)


def test_warm_up_failure_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    from engine.extractors import runner
    from engine.extractors.audio.clap import ClapModule

    def boom(self: ClapModule, device: str) -> None:
        raise RuntimeError("weights corrupt")

    monkeypatch.setattr(ClapModule, "warm_up", boom)
    from engine.config import load_settings

    runner.warm_up(load_settings(None).extract)
    assert "warm-up of clap failed: weights corrupt" in caplog.text
