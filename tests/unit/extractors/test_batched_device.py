"""Batched per-frame kernels: numpy vs torch agreement, device selection, batch sizing, CUDA path,
blockiness on native crops, the threaded decoder and the background audio thread."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from engine.extractors import runner
from engine.extractors.base import batch_size
from engine.extractors.decode import threaded
from engine.extractors.visual import batched
from engine.extractors.visual.shot_quality import blockiness
from tests.extractors_support.run import extract


def _frames(n: int = 40, seed: int = 0) -> np.ndarray:
    """Smooth moving gradients with a cut in the middle (not noise)."""
    yy, xx = np.mgrid[0:36, 0:64].astype(np.float32)
    out = []
    for i in range(n):
        if i < n // 2:
            img = np.stack([xx * 3 + i, yy * 5, 128 + 60 * np.sin((xx + i) / 6)], -1)
        else:
            img = np.stack([255 - yy * 6, 40 + xx * 2, 100 + 50 * np.cos((yy - i) / 5)], -1)
        out.append(np.clip(img + np.random.default_rng(seed + i).normal(0, 2, img.shape), 0, 255))
    return np.asarray(out, np.uint8)


def _check_same(a: batched.CutFeatures, b: batched.CutFeatures) -> None:
    for k in ("pix", "hist", "luma"):
        np.testing.assert_allclose(getattr(a, k), getattr(b, k), atol=1e-6)
    assert np.abs(a.sigs.astype(int) - b.sigs.astype(int)).max() <= 1
    np.testing.assert_array_equal(a.last, b.last)


def test_numpy_cut_features_match_per_frame_definition_and_chain_over_batches() -> None:
    fr = _frames()
    whole = batched.cut_features(fr, None, None)
    first = batched.cut_features(fr[:17], None, None)
    second = batched.cut_features(fr[17:], first.last, first.last_hist)
    np.testing.assert_allclose(np.concatenate([first.pix, second.pix]), whole.pix, atol=1e-12)
    np.testing.assert_allclose(np.concatenate([first.hist, second.hist]), whole.hist, atol=1e-12)
    i = 25  # the per-frame definitions of docs/extractors.md
    ref_pix = np.abs(fr[i].astype(int) - fr[i - 1].astype(int)).mean() / 255
    ref_hist = 0.5 * np.abs(batched.hist64(fr[i:i + 1])[0] - batched.hist64(fr[i - 1:i])[0]).sum()
    assert whole.pix[i] == pytest.approx(ref_pix) and whole.hist[i] == pytest.approx(ref_hist)
    assert whole.pix[0] == 0.0 and whole.hist[20] > 5 * np.median(whole.hist)  # the cut


def test_torch_cpu_kernels_agree_with_numpy() -> None:
    pytest.importorskip("torch")
    fr = _frames()
    _check_same(batched.cut_features(fr, fr[0], batched.hist64(fr[:1])[0]),
                batched.torch_cut_features(fr, fr[0], batched.hist64(fr[:1])[0]))
    gray = fr[..., 1]
    np.testing.assert_allclose(batched.torch_laplacian_var(gray), batched.laplacian_var(gray), rtol=1e-5)


@pytest.mark.gpu
def test_cuda_kernels_give_the_cpu_features(cuda: None) -> None:
    fr = _frames(200)
    prev, prev_hist = fr[0], batched.hist64(fr[:1])[0]
    cpu = batched.cut_features(fr[1:], prev, prev_hist, "cpu")
    _check_same(cpu, batched.cut_features(fr[1:], prev, prev_hist, "cuda"))
    _check_same(cpu, batched.cut_features(fr[1:], prev, prev_hist, "cuda", scale=1e-9))  # chunks of 1 frame
    gray = np.ascontiguousarray(fr[..., 1])
    np.testing.assert_allclose(batched.laplacian_var(gray, "cuda"), batched.laplacian_var(gray), rtol=1e-4)


@pytest.mark.gpu
def test_cuda_pipeline_matches_cpu_pipeline(synth_video, tmp_path: Path, cuda: None) -> None:
    path, _ = synth_video
    mods = ["cut_detection", "shot_quality"]
    _, cpu = extract(path, tmp_path / "c", {"extract.modules": mods, "extract.device": "cpu"})
    _, gpu = extract(path, tmp_path / "g", {"extract.modules": mods, "extract.device": "cuda"})
    a, b = cpu.arrays("cut_detection"), gpu.arrays("cut_detection")
    np.testing.assert_allclose(a["score"], b["score"], atol=1e-5)
    assert a["hard_cuts"].tolist() == b["hard_cuts"].tolist() and a["gradual"].tolist() == b["gradual"].tolist()
    np.testing.assert_allclose(cpu.arrays("shot_quality")["sharpness"], gpu.arrays("shot_quality")["sharpness"],
                               rtol=1e-4)


def test_device_selection_picks_cpu_here(monkeypatch: pytest.MonkeyPatch) -> None:
    assert runner.resolve_device("cpu", True) == "cpu"
    assert runner.resolve_device("auto", False) == "cpu"  # no module uses the device
    try:
        import torch

        cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        cuda = False
    if cuda:
        pytest.skip("this machine has CUDA")
    assert runner.resolve_device("auto", True) == "cpu"
    assert runner.resolve_device("cuda", True) == "cpu"  # warns, falls back
    # a machine without NVIDIA device nodes is decided without importing torch
    monkeypatch.setattr(runner, "_cuda_possible", lambda: False)
    assert runner.resolve_device("auto", True) == "cpu"


def test_batch_size_scale_reduces_the_gpu_batch_with_floor_one() -> None:
    frame = 64 * 36 * 3
    free = 8 << 30
    full = batched.device_batch(frame, 1.0, free_bytes=free, cap=10**9)
    half = batched.device_batch(frame, 0.5, free_bytes=free, cap=10**9)
    assert full > 1000 and half == full // 2
    assert batched.device_batch(frame, 1e-12, free_bytes=free) == 1
    assert batched.device_batch(frame, 1.0, free_bytes=0) == 1
    assert batched.device_batch(frame, 1.0, free_bytes=free, cap=64) == 64
    assert batch_size(32, 0.25) == 8 and batch_size(32, 0.001) == 1


def test_blockiness_sees_an_8px_grid_and_not_a_smooth_image() -> None:
    yy, xx = np.mgrid[0:256, 0:256].astype(np.float32)
    smooth = (128 + 60 * np.sin(xx / 17) * np.cos(yy / 23)).astype(np.uint8)
    blocky = smooth.astype(np.float32)
    blocky = blocky.reshape(32, 8, 32, 8).mean(axis=(1, 3), keepdims=True).repeat(8, 1).repeat(8, 3).reshape(256, 256)
    assert blockiness(smooth) == pytest.approx(1.0, abs=0.1)
    assert blockiness(blocky.astype(np.uint8)) > 3.0
    assert np.isnan(blockiness(smooth[:8]))


def test_threaded_iterates_in_order_and_reraises() -> None:
    assert list(threaded(iter(range(100)), depth=3)) == list(range(100))

    def broken():
        yield 1
        raise ValueError("boom")

    it = threaded(broken())
    assert next(it) == 1
    with pytest.raises(ValueError, match="boom"):
        next(it)
    before = threading.active_count()
    gen = threaded(iter(range(10**6)), depth=2)
    next(gen)
    gen.close()  # stops the producer
    assert threading.active_count() <= before


def test_blockiness_defined_and_shot_metrics_without_nan(synth_video, tmp_path: Path) -> None:
    path, _ = synth_video
    switch = sys.getswitchinterval()
    manifest, run = extract(path, tmp_path, {"extract.modules": ["cut_detection", "shot_quality"]})
    assert sys.getswitchinterval() == switch  # lowered during the decode pass only
    q = run.arrays("shot_quality")
    assert np.isfinite(q["blockiness"]).all() and np.isfinite(q["shot_metrics"]).all()
    assert manifest["components"]["shot_quality"]["summary"]["blockiness_measurable"] is True
