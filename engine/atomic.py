"""Crash-safe file writes: write a temp file in the same directory, fsync, rename, fsync dir.

A reader never sees a half-written manifest, NPZ, progress.json or batch.toml: it sees the old
file or the new one.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike[str], writer: Callable[[IO[bytes]], None], *, durable: bool = True,
                 sync_dir: bool = True) -> None:
    """Create ``path`` atomically from what ``writer`` writes into a binary file object.

    ``sync_dir=False`` skips the directory fsync when the caller writes another file into the same
    directory right after with it (one directory fsync makes both renames durable).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the mode open() would
    try:
        with os.fdopen(fd, "wb") as fh:
            writer(fh)
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable and sync_dir:
        _fsync_dir(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, durable: bool = True,
                       sync_dir: bool = True) -> None:
    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    atomic_write(path, write, durable=durable, sync_dir=sync_dir)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable=durable)


def atomic_write_json(path: str | os.PathLike[str], obj: Any, *, durable: bool = True, indent: int | None = 2) -> None:
    text = json.dumps(obj, indent=indent, sort_keys=True, default=str, allow_nan=False)
    atomic_write_text(path, text + "\n", durable=durable)


def atomic_write_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray], *, durable: bool = True,
                     sync_dir: bool = True) -> None:
    """Write named arrays as an uncompressed NPZ; object arrays are refused (no pickle).

    ``durable=False`` keeps the atomic rename but skips the fsyncs: the caller makes the file
    durable later with :func:`fsync_files` (see ``RunDir.complete``)."""
    for name, arr in arrays.items():
        if np.asarray(arr).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; NPZ artifacts must not need pickle")
    buf = io.BytesIO()
    named: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
    np.savez(buf, **named)
    atomic_write_bytes(path, buf.getvalue(), durable=durable, sync_dir=sync_dir)


def remove_stale_temps(directory: str | os.PathLike[str], names: tuple[str, ...] = ()) -> list[Path]:
    """Delete the temp files atomic writes into ``directory`` left when their process was killed
    between creating and renaming them (``.<name>.XXXX.tmp``; only those of ``names`` when given,
    else every one). Nothing else removes them, so a SIGKILL mid-write left one behind for good.
    Call only as the directory's sole writer (holding its lock): another writer's temp is live."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(".tmp")):
            continue
        if names and not any(name.startswith(f".{n}.") for n in names):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_files(paths: list[Path]) -> None:
    """Make already renamed files durable: fsync each (concurrently: the file system then
    commits them in one or two journal transactions instead of one each), then fsync their
    directories (which makes the renames durable). Missing files are an error."""
    if not paths:
        return
    if len(paths) == 1:
        _fsync_path(paths[0])
    else:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(8, len(paths)), thread_name_prefix="vidops-fsync") as pool:
            list(pool.map(_fsync_path, paths))  # re-raises the first OSError
    for directory in sorted({p.parent for p in paths}):
        _fsync_dir(directory)


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Load every array of an NPZ without pickle."""
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}
