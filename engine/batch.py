"""A batch on disk: ``<workspace>/batches/<batch_id>/`` and its single-supervisor lock.

Layout: ``batch.toml`` (frozen resolved config + list), ``videos.jsonl`` (normalized input),
``state.jsonl`` (event log), ``progress.json``, ``logs/<video_key>.log``, ``supervisor.log``,
``supervisor.lock`` (pid; an flock held by the live supervisor, so a stale lock from a dead
process is simply taken over) and the control socket.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import tomli_w

from engine.atomic import atomic_write_bytes, atomic_write_text
from engine.batch_input import VideoRow, check_id
from engine.config import Settings, parse_settings
from engine.hints import vidops_command
from engine.settings_base import to_dict
from engine.version import __version__


class BatchNotFound(LookupError):
    """No batch with that id in the workspace."""


class BatchLocked(RuntimeError):
    """Another live supervisor owns the batch."""


class WorkspaceError(RuntimeError):
    """The workspace or a batch directory cannot be written (read-only, permissions, not a folder)."""


class BatchAborted(RuntimeError):
    """The supervisor stopped mid-batch: its event log cannot be written (disk full, I/O error).
    Nothing recorded is lost; the batch reads as interrupted and resume continues it."""


def workspace_error(path: str | os.PathLike[str], exc: OSError) -> WorkspaceError:
    # An operator error (wrong --workspace, read-only mount), not a bug: say what and where.
    return WorkspaceError(f"cannot write {exc.filename or path}: {exc.strerror or exc}; "
                          "a batch needs a writable workspace (--workspace DIR or VIDOPS_WORKSPACE)")


def new_batch_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


@dataclass(frozen=True)
class BatchPaths:
    root: Path

    @property
    def batch_id(self) -> str:
        return self.root.name

    @property
    def workspace(self) -> Path:
        """The workspace holding the batch (``WORKSPACE/batches/BATCH``)."""
        return self.root.parent.parent

    @property
    def config(self) -> Path:
        return self.root / "batch.toml"

    @property
    def videos(self) -> Path:
        return self.root / "videos.jsonl"

    @property
    def state(self) -> Path:
        return self.root / "state.jsonl"

    @property
    def progress(self) -> Path:
        return self.root / "progress.json"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def supervisor_log(self) -> Path:
        return self.root / "supervisor.log"

    @property
    def lock(self) -> Path:
        return self.root / "supervisor.lock"

    @property
    def control_addr(self) -> Path:
        """File holding the control socket path (the socket may live elsewhere if too long)."""
        return self.root / "control.addr"

    def video_log(self, key: str) -> Path:
        return self.logs / f"{key}.log"


def batches_dir(workspace: str | os.PathLike[str]) -> Path:
    return Path(workspace) / "batches"


def batch_paths(workspace: str | os.PathLike[str], batch_id: str) -> BatchPaths:
    problem = check_id(batch_id, "batch id")
    if problem:
        raise BatchNotFound(problem)
    root = batches_dir(workspace) / batch_id
    if not root.is_dir():
        raise BatchNotFound(f"no batch {batch_id!r} in {batches_dir(workspace)}")
    return BatchPaths(root)


def create_batch(workspace: str | os.PathLike[str], settings: Settings, rows: list[VideoRow],
                 list_path: str, config_hash: str, batch_id: str | None = None) -> BatchPaths:
    """Write the frozen config and the normalized list of a new batch."""
    batch_id = batch_id or new_batch_id()
    problem = check_id(batch_id, "batch id")
    if problem:
        raise ValueError(problem)
    root = batches_dir(workspace) / batch_id
    if root.exists():
        raise FileExistsError(f"batch {batch_id!r} already exists in {batches_dir(workspace)}; "
                              f"use '{vidops_command(f'resume {batch_id}', workspace)}'")
    paths = BatchPaths(root)
    try:
        paths.logs.mkdir(parents=True)
    except FileExistsError:  # another 'vidops run --batch-id' of the same id won the race
        raise FileExistsError(f"batch {batch_id!r} already exists in {batches_dir(workspace)}") from None
    except OSError as exc:
        raise workspace_error(root, exc) from None
    doc = {
        "batch": {"batch_id": batch_id, "list": str(Path(list_path).resolve()), "created_at": time.time(),
                  "vidops_version": __version__, "config_hash": config_hash, "videos": len(rows)},
        "config": to_dict(settings),
    }
    lines = "".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in rows)
    try:
        atomic_write_text(paths.videos, lines)
        atomic_write_bytes(paths.config, tomli_w.dumps(doc).encode())  # last: batch.toml marks a usable batch
    except OSError as exc:
        raise workspace_error(root, exc) from None
    return paths


def load_batch_config(paths: BatchPaths) -> tuple[dict[str, Any], Settings]:
    import tomllib

    with paths.config.open("rb") as fh:
        doc = tomllib.load(fh)
    return doc["batch"], parse_settings(doc["config"], str(paths.config))


def load_videos(paths: BatchPaths) -> list[dict[str, Any]]:
    with paths.videos.open("r", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class SupervisorLock:
    """Exclusive flock on ``supervisor.lock``; the kernel drops it when the holder dies."""

    def __init__(self, paths: BatchPaths) -> None:
        self.paths = paths
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        try:
            fh = open(self.paths.lock, "a+")  # noqa: SIM115 - held while the supervisor lives
        except OSError as exc:
            raise workspace_error(self.paths.lock, exc) from None
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            pid = read_lock_pid(self.paths)
            raise BatchLocked(f"batch {self.paths.batch_id} is already run by supervisor pid {pid}") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def read_lock_pid(paths: BatchPaths) -> int | None:
    try:
        text = paths.lock.read_text().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


def supervisor_alive(paths: BatchPaths) -> bool:
    """True when some process holds the batch lock (a stale pid file does not count)."""
    try:
        fh = open(paths.lock)  # noqa: SIM115
    except FileNotFoundError:
        return False
    with fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def list_batches(workspace: str | os.PathLike[str]) -> list[BatchPaths]:
    root = batches_dir(workspace)
    if not root.is_dir():
        return []
    return [BatchPaths(p) for p in sorted(root.iterdir()) if (p / "batch.toml").is_file()]
