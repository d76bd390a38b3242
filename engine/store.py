"""The result store: ``<root>/<platform_id>/<video_id>/<run_id>/manifest.json`` + NPZs.

``run_id`` is a function of the config hash and the input fingerprint, so the same video
under the same result-affecting config always maps to the same directory (idempotency).
The manifest records each component as it completes, so an interrupted run resumes at the
first missing component. Every file is written atomically.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engine.atomic import atomic_write_json, atomic_write_npz, read_npz

MANIFEST_SCHEMA_VERSION = 1
_EDGE_BYTES = 1 << 20  # first and last MiB go into the fingerprint


def fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Cheap content fingerprint: size, mtime and a hash of the first and last MiB."""
    st = os.stat(path)
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        h.update(fh.read(_EDGE_BYTES))
        if st.st_size > _EDGE_BYTES:
            fh.seek(max(_EDGE_BYTES, st.st_size - _EDGE_BYTES))
            h.update(fh.read(_EDGE_BYTES))
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "edge_sha256": h.hexdigest()}


def make_run_id(config_hash: str, fp: dict[str, Any]) -> str:
    blob = f"{config_hash}|{fp['size']}|{fp['mtime_ns']}|{fp['edge_sha256']}"
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class ResultSink(Protocol):
    """Where a pipeline writes its component outputs (a run directory, or memory for Ray)."""

    def manifest(self) -> dict[str, Any]: ...

    def write_component(
        self,
        name: str,
        *,
        version: str,
        arrays: dict[str, np.ndarray] | None,
        summary: dict[str, Any],
        status: str = "done",
        reason: str | None = None,
        wall_s: float = 0.0,
    ) -> None: ...

    def update(self, **fields: Any) -> None: ...

    def complete(self) -> None: ...


def new_manifest(task: dict[str, Any], run_id: str, config_hash: str) -> dict[str, Any]:
    return {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "platform_id": task["platform_id"],
        "video_id": task["video_id"],
        "run_id": run_id,
        "config_hash": config_hash,
        "source": {"path": task["video_path"], "fingerprint": task.get("fingerprint")},
        "status": "partial",
        "created_at": time.time(),
        "components": {},
    }


def record_component(
    manifest: dict[str, Any], name: str, *, version: str, status: str, summary: dict[str, Any],
    reason: str | None, wall_s: float, arrays: dict[str, np.ndarray] | None,
) -> None:
    entry: dict[str, Any] = {"status": status, "version": version, "summary": summary, "wall_s": round(wall_s, 4)}
    if reason:
        entry["reason"] = reason
    if arrays is not None and status == "done":
        entry["npz"] = f"{name}.npz"
        entry["arrays"] = {k: {"dtype": str(np.asarray(v).dtype), "shape": list(np.asarray(v).shape)} for k, v in arrays.items()}
    manifest["components"][name] = entry


@dataclass
class RunDir:
    """One (platform_id, video_id, run_id) directory; implements :class:`ResultSink`."""

    path: Path

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def manifest(self) -> dict[str, Any]:
        return load_manifest(self.path) or {}

    def start(self, task: dict[str, Any], run_id: str, config_hash: str) -> dict[str, Any]:
        """Open the run: keep an existing manifest (resume), else create one."""
        existing = load_manifest(self.path)
        if existing is not None and existing.get("run_id") == run_id:
            return existing
        manifest = new_manifest(task, run_id, config_hash)
        atomic_write_json(self.manifest_path, manifest)
        return manifest

    def write_component(
        self, name: str, *, version: str, arrays: dict[str, np.ndarray] | None, summary: dict[str, Any],
        status: str = "done", reason: str | None = None, wall_s: float = 0.0,
    ) -> None:
        if arrays is not None and status == "done":
            # The manifest write below fsyncs the directory, which makes this rename durable too.
            atomic_write_npz(self.path / f"{name}.npz", arrays, sync_dir=False)
        manifest = self.manifest()
        record_component(manifest, name, version=version, status=status, summary=summary,
                         reason=reason, wall_s=wall_s, arrays=arrays)
        atomic_write_json(self.manifest_path, manifest)

    def update(self, **fields: Any) -> None:
        manifest = self.manifest()
        manifest.update(fields)
        atomic_write_json(self.manifest_path, manifest)

    def complete(self) -> None:
        self.update(status="complete", completed_at=time.time())

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        return read_npz(self.path / f"{name}.npz")


def load_manifest(run_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    import json

    p = Path(run_path) / "manifest.json"
    try:
        with p.open("r", encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return None  # unreadable manifest: treat the run as not started
    return data if isinstance(data, dict) else None


class ResultStore:
    """The root of all run directories."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def run_dir(self, platform_id: str, video_id: str, run_id: str) -> RunDir:
        return RunDir(self.root / platform_id / video_id / run_id)

    def is_complete(self, platform_id: str, video_id: str, run_id: str) -> bool:
        m = load_manifest(self.run_dir(platform_id, video_id, run_id).path)
        return m is not None and m.get("status") == "complete"

    def iter_runs(self) -> Iterator[tuple[str, str, str, Path]]:
        """Yield (platform_id, video_id, run_id, path) for every run directory."""
        if not self.root.is_dir():
            return
        for platform in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            for video in sorted(v for v in platform.iterdir() if v.is_dir()):
                for run in sorted(r for r in video.iterdir() if r.is_dir()):
                    yield platform.name, video.name, run.name, run
