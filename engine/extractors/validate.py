"""Artifact validation: is a run directory (or one module result) what it claims to be?

:func:`check_result` checks one in-memory result against its module's declared outputs;
:func:`validate_run` checks a whole run directory on disk: manifest schema, an NPZ for every
``done`` component holding the arrays the manifest and the module declare, no NaN where not
allowed, and physical sanity (frame count ~ duration x fps, loudness in range, cuts strictly
increasing and inside the video, sample times increasing).
"""

from __future__ import annotations

import math
import zipfile
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


def validate_run(run_dir: str | Path, *, finished: bool = False) -> list[str]:
    """Every problem found in a run directory; empty when it is valid. ``finished``: the run
    must also have reached its commit point (``vidops validate``; the runner validates just
    before it, so a failed video's partial run did read "valid")."""
    run = Path(run_dir)
    manifest = load_manifest(run)
    if manifest is None:
        return [f"{run}: no readable manifest.json"]
    problems: list[str] = []
    if finished and manifest.get("status") != "complete":
        problems.append(f"manifest status {manifest.get('status')!r}: the extraction did not finish")
    if manifest.get("schema_version") != MANIFEST_SCHEMA_VERSION:
        problems.append(f"manifest schema_version {manifest.get('schema_version')!r}, expected {MANIFEST_SCHEMA_VERSION}")
    for key in ("platform_id", "video_id", "run_id", "components"):
        if key not in manifest:
            problems.append(f"manifest lacks {key!r}")
    # a damaged or hand-edited manifest is reported, not a traceback
    comps = _mapping(manifest, "components", problems)
    video = _mapping(manifest, "video", problems)
    extract = _mapping(manifest, "extract", problems)
    n_frames = int(_number(video, "frame_count", "video", problems)) or None
    fps, duration = _number(video, "source_fps", "video", problems), _number(video, "duration_s", "video", problems)
    # the runner records the video stream's own extent when another stream outlasts it and
    # the file is whole (engine/extractors/integrity.py); the container's duration otherwise
    duration = _number(extract, "video_duration_s", "extract", problems) or duration
    if n_frames and fps > 0 and duration > 1.0:
        expected = duration * fps
        if abs(n_frames - expected) > max(3.0, 0.05 * expected):
            problems.append(f"video: {n_frames} frames decoded, duration x fps = {expected:.1f}")
    for name, entry in comps.items():
        if not isinstance(entry, dict):
            problems.append(f"{name}: manifest entry is not an object")
            continue
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
        path = run / str(entry["npz"])
        if path.resolve().parent != run.resolve():
            problems.append(f"{name}: npz {entry['npz']!r} is not a file of the run directory")
            continue
        try:
            arrays = read_npz(path)
        except FileNotFoundError:
            problems.append(f"{name}: {entry['npz']} missing")
            continue
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # truncated, not a zip, pickled
            problems.append(f"{name}: {entry['npz']} unreadable ({type(exc).__name__}: {exc})")
            continue
        for key, meta in _mapping(entry, "arrays", problems, name).items():
            a = arrays.get(key)
            if a is None:
                problems.append(f"{name}: manifest lists array {key!r}, NPZ lacks it")
            elif not isinstance(meta, dict) or (str(a.dtype), list(a.shape)) != (meta.get("dtype"), meta.get("shape")):
                want = f"{meta.get('dtype')}{meta.get('shape')}" if isinstance(meta, dict) else repr(meta)
                problems.append(f"{name}.{key}: NPZ {a.dtype}{list(a.shape)} != manifest {want}")
        if name in registry.NAMES:
            try:
                cls = registry.module_class(name)
            except ImportError:
                cls = None
            if cls is not None and cls.outputs:
                problems += check_arrays(name, arrays, cls.outputs)
        problems += _sanity(name, arrays, _mapping(entry, "summary", problems, name), n_frames)
    return problems


def _mapping(parent: dict[str, Any], key: str, problems: list[str], where: str = "manifest") -> dict[str, Any]:
    """``parent[key]`` when it is an object (absent: empty); else a problem and empty."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}.{key}: {type(value).__name__}, expected an object")
        return {}
    return value


def _number(parent: dict[str, Any], key: str, where: str, problems: list[str]) -> float:
    """``parent[key]`` as a float (absent/null: 0); a non-number is a problem, read as 0."""
    value = parent.get(key)
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.append(f"{where}.{key}: {value!r} is not a finite number")
        return 0.0
    return float(value)
