"""Loading and running a configured CLAP checkpoint (the ``clap`` module's learned backend).

The checkpoint's form picks the library: a directory holding a Hugging Face ``ClapModel``
(``config.json`` + weights + ``preprocessor_config.json``) runs with ``transformers``; a
``.pt``/``.ckpt`` file runs with ``laion_clap``. Neither library is a runtime dependency
(``pip install 'vidops[clap]'`` brings transformers); a missing one is a clear permanent error.

Audio longer than the model's window (``max_length_s`` of the feature extractor, 10 s for the
LAION checkpoints) is cut into consecutive windows, each embedded whole (so the extractor's
*random* truncation never applies and the result is deterministic), and the window embeddings
are averaged with their durations as weights. Loaded models are kept per process (a real
checkpoint is ~600 MB: loading it per video would dominate), keyed by path and device.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import PermanentError

SAMPLE_RATE = 48000
_LAION_SUFFIXES = (".pt", ".ckpt", ".pth")


class MissingBackend(PermanentError):
    """A CLAP checkpoint is configured but the library that loads it is not installed."""

    error_class = "missing_backend"


class BadCheckpoint(PermanentError):
    """The configured CLAP checkpoint does not exist or is not a form vidops can load."""

    error_class = "bad_checkpoint"


def backend_for(checkpoint: str) -> str:
    """``transformers`` or ``laion_clap`` for this checkpoint path (raises on a bad path)."""
    path = Path(checkpoint)
    key = f"extract.params.clap.checkpoint={checkpoint!r}"
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise BadCheckpoint(f"{key}: directory has no config.json; expected a Hugging Face ClapModel "
                                "directory (save_pretrained) or a laion_clap .pt/.ckpt file")
        return "transformers"
    if path.is_file():
        if path.suffix.lower() in _LAION_SUFFIXES:
            return "laion_clap"
        raise BadCheckpoint(f"{key}: unknown checkpoint file type {path.suffix!r}; expected a laion_clap "
                            ".pt/.ckpt file or a Hugging Face ClapModel directory")
    raise BadCheckpoint(f"{key}: no such file or directory")


def check_checkpoint(checkpoint: str) -> str | None:
    """Why ``checkpoint`` cannot be used here (path or library), or ``None``."""
    try:
        lib = backend_for(checkpoint)
    except BadCheckpoint as exc:
        return str(exc)
    if importlib.util.find_spec(lib) is None:
        return _install_hint(checkpoint, lib)
    return None


def _install_hint(checkpoint: str, lib: str) -> str:
    what = "pip install 'vidops[clap]' (transformers)" if lib == "transformers" else "pip install laion-clap"
    return (f"extract.params.clap.checkpoint={checkpoint!r} needs the {lib} library: {what}, "
            "or leave checkpoint empty for the weight-free spectral-v1 embedding")


@functools.lru_cache(maxsize=2)
def _transformers_model(checkpoint: str, device: str) -> tuple[Any, Any]:
    from transformers import ClapFeatureExtractor, ClapModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # no "Loading weights" bar in worker logs and --json output
    try:
        model = ClapModel.from_pretrained(checkpoint).eval().to(device)
        features = ClapFeatureExtractor.from_pretrained(checkpoint)
    except (OSError, ValueError) as exc:
        raise BadCheckpoint(f"extract.params.clap.checkpoint={checkpoint!r} does not load as a ClapModel: {exc}") from None
    return model, features


def preload(checkpoint: str, device: str = "cpu") -> None:
    """Load a checkpoint into the per-process cache (worker warm-up). A ``laion_clap``
    checkpoint is loaded per video by its library and is not preloaded."""
    if backend_for(checkpoint) == "transformers":
        _transformers_model(checkpoint, device)


def windows(y: np.ndarray, size: int) -> list[np.ndarray]:
    """Consecutive windows of at most ``size`` samples covering ``y`` (at least one)."""
    if y.size <= size:
        return [y]
    return [y[i:i + size] for i in range(0, y.size, size)]


def _transformers_embedding(checkpoint: str, y48k: np.ndarray, device: str, batch: int) -> np.ndarray:
    import torch

    model, features = _transformers_model(checkpoint, device)
    parts = windows(np.asarray(y48k, np.float32), int(features.nb_max_samples))
    embs: list[np.ndarray] = []
    with torch.inference_mode():
        for s in range(0, len(parts), batch):
            chunk = parts[s:s + batch]
            inputs = features(chunk, sampling_rate=SAMPLE_RATE, return_tensors="pt")
            out = model.get_audio_features(**{k: v.to(device) for k, v in inputs.items()})
            # transformers 4.x returns the projected tensor, 5.x an output whose pooler_output it is
            emb = out if isinstance(out, torch.Tensor) else out.pooler_output
            embs.extend(emb.float().cpu().numpy())
    weights = np.array([p.size for p in parts], np.float64)
    return np.asarray((np.stack(embs) * weights[:, None]).sum(axis=0) / weights.sum(), np.float32)


def _laion_embedding(checkpoint: str, y48k: np.ndarray) -> np.ndarray:  # pragma: no cover - needs laion_clap
    import laion_clap

    model = laion_clap.CLAP_Module(enable_fusion=False)
    model.load_ckpt(checkpoint)
    emb = model.get_audio_embedding_from_data(x=y48k[None, :].astype(np.float32), use_tensor=False)
    return np.asarray(emb[0], dtype=np.float32)


def clap_embedding(checkpoint: str, y48k: np.ndarray, device: str = "cpu", batch: int = 8) -> tuple[np.ndarray, str]:
    """Embed a 48 kHz mono signal with a CLAP checkpoint; (embedding, backend library)."""
    lib = backend_for(checkpoint)
    if importlib.util.find_spec(lib) is None:
        raise MissingBackend(_install_hint(checkpoint, lib))
    if lib == "transformers":
        return _transformers_embedding(checkpoint, y48k, device, max(1, batch)), lib
    return _laion_embedding(checkpoint, y48k), lib
