"""Artifact validation: is a run directory (or one module result) what it claims to be?

:func:`check_result` checks one in-memory result against its module's declared outputs;
:func:`validate_run` checks a whole run directory on disk: manifest schema, an NPZ for every
``done`` component holding the arrays the manifest and the module declare, no NaN where not
allowed, and physical sanity (frame count ~ duration x fps, loudness in range, cuts strictly
increasing and inside the video, sample times increasing).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from engine.atomic import read_npz
from engine.extractors import registry
from engine.extractors.base import ArraySpec, Module, ModuleResult
from engine.store import MANIFEST_SCHEMA_VERSION, load_manifest

#: arrays the runner adds to every frame-consuming module
RUNNER_OUTPUTS = {
    "sample_index": ArraySpec("int64", ("n",)),
    "sample_time": ArraySpec("float64", ("n",)),
}


def check_arrays(name: str, arrays: dict[str, np.ndarray], outputs: dict[str, ArraySpec]) -> list[str]:
    problems: list[str] = []
    declared = {**outputs, **RUNNER_OUTPUTS} if "sample_index" in arrays else dict(outputs)
    symbols: dict[str, int] = {}
    for key, spec in declared.items():
        if key not in arrays:
            problems.append(f"{name}: missing array {key!r}")
            continue
        a = np.asarray(arrays[key])
        if str(a.dtype) != spec.dtype:
            problems.append(f"{name}.{key}: dtype {a.dtype}, declared {spec.dtype}")
        if a.ndim != len(spec.shape):
            problems.append(f"{name}.{key}: shape {a.shape}, declared {spec.shape}")
            continue
        for dim, want in zip(a.shape, spec.shape, strict=True):
            if isinstance(want, int) and dim != want:
                problems.append(f"{name}.{key}: shape {a.shape}, declared {spec.shape}")
            elif isinstance(want, str) and symbols.setdefault(want, dim) != dim:
                problems.append(f"{name}.{key}: dimension {want!r} is {dim}, elsewhere {symbols[want]}")
        if a.dtype.kind == "f" and not spec.allow_nan and a.size and not np.isfinite(a).all():
            problems.append(f"{name}.{key}: contains NaN/inf")
    extra = sorted(set(arrays) - set(declared))
    if extra:
        problems.append(f"{name}: undeclared arrays {extra}")
    return problems


def _sanity(name: str, arrays: dict[str, np.ndarray], summary: dict[str, Any], n_frames: int | None) -> list[str]:
    problems: list[str] = []
    if "sample_index" in arrays:
        idx = arrays["sample_index"]
        if idx.size and (np.any(np.diff(idx) <= 0) or idx[0] < 0):
            problems.append(f"{name}.sample_index: not strictly increasing from >= 0")
        if n_frames and idx.size and idx[-1] >= n_frames:
            problems.append(f"{name}.sample_index: {int(idx[-1])} beyond the {n_frames} frames")
        t = arrays.get("sample_time")
        if t is not None and t.size > 1 and np.any(np.diff(t) < 0):
            problems.append(f"{name}.sample_time: decreasing")
    if name == "cut_detection":
        cuts = arrays.get("hard_cuts")
        if cuts is not None and cuts.size:
            if np.any(np.diff(cuts) <= 0):
                problems.append("cut_detection.hard_cuts: not strictly increasing")
            if cuts[0] < 1 or (n_frames and cuts[-1] >= n_frames):
                problems.append("cut_detection.hard_cuts: outside 1..frame_count-1")
    for key, value in summary.items():
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{name}.summary.{key}: not finite")
    if name == "loudness":
        for key, value in summary.items():
            if "lufs" in key.lower() and isinstance(value, int | float) and not -200.0 <= value <= 20.0:
                problems.append(f"loudness.summary.{key}: {value} outside -200..+20 LUFS")
    return problems


def check_result(cls: type[Module], result: ModuleResult, n_frames: int | None = None) -> list[str]:
    """Problems of an in-memory module result (before it is written)."""
    arrays = {k: np.asarray(v) for k, v in result.arrays.items()}
    problems = check_arrays(cls.name, arrays, cls.outputs) if cls.outputs else []
    missing = [k for k in cls.summary_keys if k not in result.summary]
    if missing:
        problems.append(f"{cls.name}: summary lacks {missing}")
    return problems + _sanity(cls.name, arrays, result.summary, n_frames)


def validate_run(run_dir: str | Path) -> list[str]:
    """Every problem found in a run directory; empty when it is valid."""
    run = Path(run_dir)
    manifest = load_manifest(run)
    if manifest is None:
        return [f"{run}: no readable manifest.json"]
    problems: list[str] = []
    if manifest.get("schema_version") != MANIFEST_SCHEMA_VERSION:
        problems.append(f"manifest schema_version {manifest.get('schema_version')!r}, expected {MANIFEST_SCHEMA_VERSION}")
    for key in ("platform_id", "video_id", "run_id", "components"):
        if key not in manifest:
            problems.append(f"manifest lacks {key!r}")
    comps = manifest.get("components") or {}
    video = manifest.get("video") or {}
    n_frames = int(video.get("frame_count") or 0) or None
    fps, duration = float(video.get("source_fps") or 0), float(video.get("duration_s") or 0)
    # the runner records the video stream's own extent when another stream outlasts it and
    # the file is whole (engine/extractors/integrity.py); the container's duration otherwise
    duration = float((manifest.get("extract") or {}).get("video_duration_s") or duration)
    if n_frames and fps > 0 and duration > 1.0:
        expected = duration * fps
        if abs(n_frames - expected) > max(3.0, 0.05 * expected):
            problems.append(f"video: {n_frames} frames decoded, duration x fps = {expected:.1f}")
    for name, entry in comps.items():
        status = entry.get("status")
        if status not in ("done", "skipped"):
            problems.append(f"{name}: status {status!r}")
            continue
        if status == "skipped":
            if not entry.get("reason"):
                problems.append(f"{name}: skipped without a reason")
            continue
        if "npz" not in entry:
            continue
        path = run / entry["npz"]
        try:
            arrays = read_npz(path)
        except FileNotFoundError:
            problems.append(f"{name}: {entry['npz']} missing")
            continue
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: {entry['npz']} unreadable ({exc})")
            continue
        for key, meta in (entry.get("arrays") or {}).items():
            a = arrays.get(key)
            if a is None:
                problems.append(f"{name}: manifest lists array {key!r}, NPZ lacks it")
            elif str(a.dtype) != meta.get("dtype") or list(a.shape) != meta.get("shape"):
                problems.append(f"{name}.{key}: NPZ {a.dtype}{list(a.shape)} != manifest {meta.get('dtype')}{meta.get('shape')}")
        if name in registry.NAMES:
            try:
                cls = registry.module_class(name)
            except ImportError:
                cls = None
            if cls is not None and cls.outputs:
                problems += check_arrays(name, arrays, cls.outputs)
        problems += _sanity(name, arrays, entry.get("summary") or {}, n_frames)
    return problems
