"""The result store: ``<root>/<platform_id>/<video_id>/<run_id>/manifest.json`` + NPZs.

``run_id`` is a function of the config hash and the input fingerprint, so the same video
under the same result-affecting config always maps to the same directory (idempotency).
The manifest records each component as it completes, so an interrupted run resumes at the
first missing component. Every file is written atomically; durability waits for the run's
commit point (``RunDir.complete``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from engine.atomic import (
    atomic_write_json,
    atomic_write_npz,
    fsync_files,
    read_npz,
    remove_stale_temps,
)
from engine.errors import TransientError

MANIFEST_SCHEMA_VERSION = 1
LOCK_NAME = ".lock"  # inside the run directory; see RunDir.locked
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
    """One (platform_id, video_id, run_id) directory; implements :class:`ResultSink`.

    Durability is deferred to the commit point: while a video is extracted, every NPZ and
    manifest update is written atomically (temp file + rename: a killed worker never leaves a
    torn file) but not fsynced; :meth:`complete` fsyncs them all at once, then writes the
    ``complete`` manifest durably. A per-component fsync cost ~40 fsyncs per video, 0.1 s of
    wall time per video when other processes write to the same disk. After a power loss a
    partial run may hold components whose NPZ never reached the disk, so :meth:`start`
    re-checks the NPZs of a resumed partial run and drops those that do not read back.

    The instance that writes keeps the manifest in memory (one writer per run directory: the
    worker, or the Ray driver); ``manifest()`` of a writer returns that dict, which callers must
    not mutate. A fresh instance reads the file.
    """

    path: Path
    _manifest: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)
    _unsynced: set[Path] = field(default_factory=set, init=False, repr=False, compare=False)

    @property
    def manifest_path(self) -> Path:
        return self.path / "manifest.json"

    def manifest(self) -> dict[str, Any]:
        if self._manifest is not None:
            return self._manifest
        return load_manifest(self.path) or {}

    def _write_manifest(self, manifest: dict[str, Any], *, durable: bool = False) -> None:
        self._manifest = manifest
        atomic_write_json(self.manifest_path, manifest, durable=durable)
        if not durable:
            self._unsynced.add(self.manifest_path)

    def start(self, task: dict[str, Any], run_id: str, config_hash: str) -> dict[str, Any]:
        """Open the run: keep an existing manifest (resume), else create one."""
        existing = load_manifest(self.path)
        if existing is not None and existing.get("run_id") == run_id:
            if existing.get("status") != "complete" and _drop_unreadable(self.path, existing):
                self._write_manifest(existing)
            self._manifest = existing
            return existing
        manifest = new_manifest(task, run_id, config_hash)
        self._write_manifest(manifest)
        return manifest

    def write_component(
        self, name: str, *, version: str, arrays: dict[str, np.ndarray] | None, summary: dict[str, Any],
        status: str = "done", reason: str | None = None, wall_s: float = 0.0,
    ) -> None:
        if arrays is not None and status == "done":
            npz = self.path / f"{name}.npz"
            atomic_write_npz(npz, arrays, durable=False)
            self._unsynced.add(npz)
        manifest = self.manifest()
        record_component(manifest, name, version=version, status=status, summary=summary,
                         reason=reason, wall_s=wall_s, arrays=arrays)
        self._write_manifest(manifest)

    def update(self, **fields: Any) -> None:
        manifest = self.manifest()
        manifest.update(fields)
        self._write_manifest(manifest)

    def complete(self) -> None:
        """The commit point: every file of the run durable, then the ``complete`` manifest."""
        self._unsynced.discard(self.manifest_path)
        manifest = self.manifest()
        # also the NPZs an earlier, interrupted attempt wrote (unsynced by a worker now gone);
        # fsync of a file with nothing dirty returns at once
        listed = {self.path / str(c["npz"]) for c in manifest.get("components", {}).values()
                  if c.get("status") == "done" and c.get("npz")}
        fsync_files(sorted(p for p in self._unsynced | listed if p.exists()))
        self._unsynced.clear()
        manifest.update(status="complete", completed_at=time.time())
        self._write_manifest(manifest, durable=True)

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        return read_npz(self.path / f"{name}.npz")

    def is_complete(self, run_id: str) -> bool:
        m = load_manifest(self.path)
        return m is not None and m.get("status") == "complete" and m.get("run_id") == run_id

    @contextlib.contextmanager
    def locked(self, wait_s: float, heartbeat: Callable[[], None] | None = None,
               poll_s: float = 0.2) -> Iterator[bool]:
        """Hold the run's exclusive lock; yields whether another process held it first.

        Two batches over the same videos and result store dispatch the same run directory (each
        supervisor checks for a complete manifest only before dispatch), so without this both
        extracted the video. A writer holds an ``flock`` on ``<run>/.lock`` while it works; a
        second one polls (non-blocking, calling ``heartbeat`` so its supervisor does not see a
        stall) for up to ``wait_s``, then finds the holder's complete run, or resumes its
        partial run when the holder died. The kernel drops an flock when its process dies, so
        a crash never leaves a stale lock; the pid written into the file is only for messages,
        and the file is never deleted (unlinking a lock file races with its next taker). The
        taker removes temp files a killed holder left (``remove_stale_temps``).
        Beyond ``wait_s``: a transient ``timeout`` failure naming the holder, retried later.
        """
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            waited, deadline = False, time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
                        raise TransientError(
                            f"result directory {self.path} is still being written by another process "
                            f"(pid {holder}, maybe another batch over the same video) after waiting "
                            f"{wait_s:g} s", error_class="timeout") from None
                    waited = True
                    if heartbeat is not None:
                        heartbeat()
                    time.sleep(poll_s)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            # A writer killed mid-write (SIGKILL between creating and renaming an NPZ or the
            # manifest) left its temp file, for good: the lock is ours now, so none is live.
            for d in (self.path, self.path / "frames"):
                remove_stale_temps(d)
            self._manifest = None  # the holder may have written it meanwhile: read the file
            yield waited
        finally:
            os.close(fd)  # releases the lock


def _drop_unreadable(run: Path, manifest: dict[str, Any]) -> bool:
    """Forget the ``done`` components of a partial run whose NPZ does not read back in full
    (e.g. lost in a power cut before the run's commit point); they are recomputed. True when
    any was dropped."""
    components = manifest.get("components", {})
    bad = []
    for name, entry in components.items():
        if entry.get("status") != "done" or not entry.get("npz"):
            continue
        try:
            arrays = read_npz(run / str(entry["npz"]))
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            bad.append(name)
            continue
        if set(arrays) != set(entry.get("arrays", arrays)):
            bad.append(name)
    for name in bad:
        del components[name]
    return bool(bad)


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
