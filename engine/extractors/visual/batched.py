"""Batched per-frame work of the visual modules, on the CPU (numpy/OpenCV) or CUDA (torch).

Two kernels run over a whole :class:`~engine.extractors.base.FrameBatch` at once instead of a
Python loop per frame:

- :func:`cut_features` (cut_detection): per frame the mean absolute BGR difference to the
  previous frame, the half-L1 distance of 4x4x4 BGR histograms, the mean value and a 16x9
  area-averaged signature;
- :func:`laplacian_var` (shot_quality): variance of the 3x3 Laplacian of luma (sharpness).

Backend choice (measured, docs/extractors.md "Per-frame work: numpy vs torch"): on the CPU the
numpy/OpenCV versions are faster than torch-on-CPU at analysis sizes, so the CPU path never
imports torch. With ``inputs.device == "cuda"`` the torch versions run on the GPU in chunks of
:func:`device_batch` frames (free GPU memory x ``batch_size_scale``, floor 1). A
``torch.cuda.OutOfMemoryError`` is *not* caught: it propagates, the engine classifies it as
``cuda_oom`` and retries the video with ``batch_size_scale`` halved.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engine.extractors.base import batch_size

#: fraction of the free GPU memory one chunk may use; a chunk needs ~``_WORK_FACTOR`` times
#: its uint8 size (int16/float32 copies, histograms)
_GPU_MEM_SHARE = 0.25
_WORK_FACTOR = 16


def device_batch(frame_bytes: int, scale: float, free_bytes: int | None = None, cap: int = 4096) -> int:
    """Frames per GPU chunk: ``free_bytes`` x share / per-frame working memory, x ``scale``
    (``batch_size_scale`` after OOM back-off), floor 1, at most ``cap``.

    ``free_bytes`` defaults to ``torch.cuda.mem_get_info()``'s free memory."""
    if free_bytes is None:
        import torch

        free_bytes = int(torch.cuda.mem_get_info()[0])
    base = int(free_bytes * _GPU_MEM_SHARE // max(1, frame_bytes * _WORK_FACTOR))
    return min(cap, batch_size(max(base, 1), scale))


@dataclass
class CutFeatures:
    pix: np.ndarray  # float64 (n,) mean |BGR diff| to the previous frame, 0..1 (0 for the very first)
    hist: np.ndarray  # float64 (n,) half L1 distance of 4x4x4 histograms to the previous frame
    luma: np.ndarray  # float64 (n,) mean value 0..1
    sigs: np.ndarray  # uint8 (n, 9, 16, 3) area-averaged signatures
    last: np.ndarray  # uint8 (H, W, 3) last frame (the "previous" of the next batch)
    last_hist: np.ndarray  # float32 (64,) its histogram


def hist64(frames: np.ndarray) -> np.ndarray:
    """(n, 64) float32 4x4x4 BGR histograms (fractions) of (n, H, W, 3) uint8 frames."""
    n = frames.shape[0]
    q = frames >> 6  # 4 levels per channel
    codes = (q[..., 0].astype(np.int32) * 16 + q[..., 1] * 4 + q[..., 2]).reshape(n, -1)
    codes += (np.arange(n, dtype=np.int32) * 64)[:, None]
    counts = np.bincount(codes.ravel(), minlength=64 * n).reshape(n, 64)
    return (counts / max(1, codes.shape[1])).astype(np.float32)


def signatures(frames: np.ndarray) -> np.ndarray:
    """(n, 9, 16, 3) uint8 INTER_AREA signatures (block means when the size divides evenly)."""
    n, h, w = frames.shape[:3]
    if h % 9 == 0 and w % 16 == 0:  # integer factors: one INTER_AREA call over the stacked batch
        tall = np.ascontiguousarray(frames).reshape(n * h, w, 3)
        return cv2.resize(tall, (16, 9 * n), interpolation=cv2.INTER_AREA).reshape(n, 9, 16, 3)
    return np.stack([cv2.resize(f, (16, 9), interpolation=cv2.INTER_AREA) for f in frames])


def cut_features(frames: np.ndarray, prev: np.ndarray | None, prev_hist: np.ndarray | None,
                 device: str = "cpu", scale: float = 1.0) -> CutFeatures:
    """Cut-detection features of a batch (n, H, W, 3) uint8, given the previous batch's last
    frame/histogram (None at the start of the video)."""
    if device == "cuda":
        return _cut_features_torch(frames, prev, prev_hist, "cuda", scale)
    return _cut_features_numpy(frames, prev, prev_hist)


def _cut_features_numpy(frames: np.ndarray, prev: np.ndarray | None, prev_hist: np.ndarray | None) -> CutFeatures:
    n = frames.shape[0]
    hists = hist64(frames)
    flat = np.ascontiguousarray(frames).reshape(n, -1)
    size = flat.shape[1]
    pix = np.zeros(n, np.float64)
    hd = np.zeros(n, np.float64)
    if n > 1:
        pix[1:] = cv2.absdiff(flat[1:], flat[:-1]).sum(axis=1, dtype=np.int64) / (255.0 * size)
        hd[1:] = 0.5 * np.abs(hists[1:] - hists[:-1]).sum(axis=1)
    if prev is not None and prev_hist is not None:
        pix[0] = int(cv2.absdiff(flat[0], prev.reshape(-1)).sum(dtype=np.int64)) / (255.0 * size)
        hd[0] = 0.5 * float(np.abs(hists[0] - prev_hist).sum())
    luma = flat.sum(axis=1, dtype=np.int64) / (255.0 * size)
    return CutFeatures(pix, hd, luma, signatures(frames), frames[-1].copy(), hists[-1].copy())


def _cut_features_torch(frames: np.ndarray, prev: np.ndarray | None, prev_hist: np.ndarray | None,
                        device: str, scale: float) -> CutFeatures:
    import torch

    n = frames.shape[0]
    chunk = n if device == "cpu" else device_batch(int(frames[0].nbytes), scale)
    pix = np.zeros(n, np.float64)
    hd = np.zeros(n, np.float64)
    luma = np.zeros(n, np.float64)
    sigs = np.zeros((n, 9, 16, 3), np.uint8)
    last_t = None if prev is None else torch.from_numpy(np.ascontiguousarray(prev)).to(device)
    last_h = None if prev_hist is None else torch.from_numpy(np.asarray(prev_hist, np.float32)).to(device)
    h, w = frames.shape[1:3]
    for a in range(0, n, chunk):
        x = torch.from_numpy(np.ascontiguousarray(frames[a:a + chunk])).to(device)  # (m, H, W, 3) uint8
        m = x.shape[0]
        q = (x >> 6).to(torch.int64)
        codes = (q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]).reshape(m, -1)
        codes = codes + (torch.arange(m, device=device) * 64)[:, None]
        hist = torch.bincount(codes.reshape(-1), minlength=64 * m).reshape(m, 64).to(torch.float32) / (h * w)
        xi = x.to(torch.int16)
        seq = xi if last_t is None else torch.cat([last_t.to(torch.int16)[None], xi])
        hseq = hist if last_h is None else torch.cat([last_h[None], hist])
        d = (seq[1:] - seq[:-1]).abs().reshape(seq.shape[0] - 1, -1).to(torch.float32).mean(dim=1) / 255.0
        dh = 0.5 * (hseq[1:] - hseq[:-1]).abs().sum(dim=1)
        off = 0 if last_t is not None else 1  # the very first frame has no previous: stays 0
        pix[a + off:a + m] = d.double().cpu().numpy()
        hd[a + off:a + m] = dh.double().cpu().numpy()
        luma[a:a + m] = (x.reshape(m, -1).to(torch.float32).mean(dim=1) / 255.0).double().cpu().numpy()
        xf = x.permute(0, 3, 1, 2).to(torch.float32)
        sig = torch.nn.functional.adaptive_avg_pool2d(xf, (9, 16)).round().clamp(0, 255).to(torch.uint8)
        sigs[a:a + m] = sig.permute(0, 2, 3, 1).cpu().numpy()
        last_t, last_h = x[-1], hist[-1]
    assert last_t is not None and last_h is not None
    return CutFeatures(pix, hd, luma, sigs, last_t.cpu().numpy(), last_h.cpu().numpy())


def laplacian_var(gray: np.ndarray, device: str = "cpu", scale: float = 1.0) -> np.ndarray:
    """(n,) float64 variance of the 3x3 Laplacian (OpenCV ``Laplacian`` ksize 1, reflect-101
    border) of (n, H, W) uint8 luma frames."""
    if device == "cuda":
        return _laplacian_var_torch(gray, "cuda", scale)
    return np.asarray([float(cv2.Laplacian(g, cv2.CV_32F).var()) for g in gray], np.float64)


def _laplacian_var_torch(gray: np.ndarray, device: str, scale: float) -> np.ndarray:
    import torch

    n = gray.shape[0]
    chunk = n if device == "cpu" else device_batch(int(gray[0].nbytes), scale)
    k = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]], device=device).reshape(1, 1, 3, 3)
    out = np.zeros(n, np.float64)
    for a in range(0, n, chunk):
        x = torch.from_numpy(np.ascontiguousarray(gray[a:a + chunk])).to(device).to(torch.float32)[:, None]
        x = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")  # = OpenCV BORDER_REFLECT_101
        lap = torch.nn.functional.conv2d(x, k)
        out[a:a + x.shape[0]] = lap.reshape(x.shape[0], -1).double().var(dim=1, unbiased=False).cpu().numpy()
    return out


def torch_cut_features(frames: np.ndarray, prev: np.ndarray | None, prev_hist: np.ndarray | None,
                       device: str = "cpu", scale: float = 1.0) -> CutFeatures:
    """The torch implementation of :func:`cut_features` on ``device`` (``"cpu"`` for the
    measurement in the docs and for tests comparing it with the numpy one without a GPU)."""
    return _cut_features_torch(frames, prev, prev_hist, device, scale)


def torch_laplacian_var(gray: np.ndarray, device: str = "cpu", scale: float = 1.0) -> np.ndarray:
    """The torch implementation of :func:`laplacian_var` on ``device``."""
    return _laplacian_var_torch(gray, device, scale)
