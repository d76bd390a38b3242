"""The append-only JSONL event log (``state.jsonl``) and incremental readers of it.

Every line is one schema-versioned JSON object with a ``type`` and a ``ts``. The writer
flushes every line and fsyncs in groups (at most every ``fsync_interval_s``, and at once for
terminal events, or at the owner's ``commit()`` with ``defer_durable``), so a crash loses at
most the line being written. Readers follow the file from a byte offset, never re-reading what
they have seen; a torn line (no newline yet at the end, or garbage left by a crash) is skipped
with a warning.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson  # 5-10x faster than json for replaying large logs (measured: bench/status_scale.py)

EVENT_SCHEMA_VERSION = 1
log = logging.getLogger(__name__)

# Event types of a batch log; other logs (dataset build, training) use their own types.
BATCH_EVENT_TYPES = frozenset({
    "batch_started", "video_queued", "video_started", "video_progress", "video_component_done",
    "video_succeeded", "video_failed", "video_skipped", "video_retry_scheduled", "worker_started",
    "worker_exited", "alert", "metrics", "command_received", "batch_paused", "batch_resumed",
    "batch_stopped", "batch_finished",
})
# Written with an immediate fsync: losing them would change what resume does.
_DURABLE_NOW = frozenset({"video_succeeded", "video_failed", "video_skipped", "batch_finished", "batch_stopped"})
# Of those, the per-video ones a writer with ``defer_durable`` fsyncs at its owner's commit().
_DEFERRABLE = frozenset({"video_succeeded", "video_failed", "video_skipped"})


def make_event(type_: str, **fields: Any) -> dict[str, Any]:
    return {"v": EVENT_SCHEMA_VERSION, "type": type_, "ts": round(time.time(), 6), **fields}


class EventWriter:
    """Appends events to a JSONL file with group commit. Thread-safe.

    With ``defer_durable``, a final outcome (``video_succeeded``, ``video_failed``,
    ``video_skipped``) is not fsynced in :meth:`write` but by the owner's next :meth:`commit`:
    the supervisor commits once per pass of its loop, after dispatching the next videos, so one
    fsync covers every outcome of that pass (thousands when a re-run skips a whole list) and a
    free worker does not wait for the disk. Every line is still flushed to the OS at once (a
    killed process loses nothing), and batch_finished/batch_stopped are still fsynced at once.
    """

    def __init__(self, path: str | os.PathLike[str], fsync_interval_s: float = 0.05,
                 defer_durable: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._fsync_interval = fsync_interval_s
        self._defer_durable = defer_durable
        self._last_sync = 0.0
        self._dirty = False
        self._durable_pending = False  # a deferred final outcome waits for commit()
        self._fh = open(self.path, "ab")  # noqa: SIM115 - held for the writer's lifetime
        self._seal_torn_tail()

    def _seal_torn_tail(self) -> None:
        """After a crash the last line may be torn: end it so the next event starts clean."""
        size = self._fh.seek(0, os.SEEK_END)
        if size == 0:
            return
        with open(self.path, "rb") as rf:
            rf.seek(size - 1)
            if rf.read(1) != b"\n":
                self._fh.write(b"\n")
                self._fh.flush()

    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        event = make_event(type_, **fields)
        self.write(event)
        return event

    def write(self, event: dict[str, Any]) -> None:
        line = orjson.dumps(event, default=str) + b"\n"
        with self._lock:
            self._fh.write(line)
            self._fh.flush()
            self._dirty = True
            now = time.monotonic()
            type_ = event.get("type")
            if self._defer_durable and type_ in _DEFERRABLE:
                self._durable_pending = True
            elif type_ in _DURABLE_NOW or now - self._last_sync >= self._fsync_interval:
                os.fsync(self._fh.fileno())
                self._last_sync = now
                self._dirty = self._durable_pending = False

    @property
    def size(self) -> int:
        """Bytes of the log written so far (every line is flushed as it is written)."""
        with self._lock:
            return self._fh.tell()

    @property
    def durable_pending(self) -> bool:
        """A deferred final outcome has been written but not yet fsynced."""
        return self._durable_pending

    def commit(self) -> None:
        """fsync now if a deferred final outcome is waiting (see ``defer_durable``)."""
        if self._durable_pending:
            self.sync()

    def sync(self) -> None:
        with self._lock:
            if self._dirty:
                self._fh.flush()
                os.fsync(self._fh.fileno())
                self._dirty = self._durable_pending = False
                self._last_sync = time.monotonic()

    def close(self) -> None:
        self.sync()
        with self._lock:
            self._fh.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class ReadResult:
    events: list[dict[str, Any]]
    offset: int  # byte offset just past the last complete line consumed
    skipped: int  # torn or invalid lines skipped


_PROGRESS_PREFIX = b'{"v":1,"type":"video_progress",'
_KEY = b'"key":"'


def read_events(path: str | os.PathLike[str], offset: int = 0, max_bytes: int | None = None,
                defer_progress: dict[bytes, bytes] | None = None) -> ReadResult:
    """Read complete lines from ``offset``; an incomplete last line is left for the next call.

    With ``defer_progress``, ``video_progress`` lines are not parsed: the last raw line per
    video key is kept there instead (a third of a big log; only running videos need them).
    """
    events: list[dict[str, Any]] = []
    skipped = 0
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return ReadResult([], offset, 0)
    with fh:
        fh.seek(offset)
        data = fh.read() if max_bytes is None else fh.read(max_bytes)
    end = data.rfind(b"\n")
    if end < 0:
        return ReadResult([], offset, 0)
    lines = data[:end].split(b"\n")
    loads, append = orjson.loads, events.append  # hot loop: 100k-video logs have ~600k lines
    for raw in lines:
        if defer_progress is not None and raw.startswith(_PROGRESS_PREFIX) and b"\\" not in raw:
            i = raw.find(_KEY)
            j = raw.find(b'"', i + 7) if i >= 0 else -1
            if j > 0:
                defer_progress[raw[i + 7:j]] = raw
                continue
        try:
            event = loads(raw)
        except orjson.JSONDecodeError:
            if raw.strip():
                skipped += 1
                log.warning("%s: skipping a torn or invalid event line after byte %d: %r", path, offset, raw[:80])
            continue
        if type(event) is dict and "type" in event:
            append(event)
        else:
            skipped += 1
    return ReadResult(events, offset + end + 1, skipped)


def iter_events(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """All complete events of a log, in order (chunked, bounded memory)."""
    offset = 0
    while True:
        res = read_events(path, offset, max_bytes=8 << 20)
        yield from res.events
        if res.offset == offset:
            return
        offset = res.offset


def follow(path: str | os.PathLike[str], offset: int = 0, poll_s: float = 0.25,
           stop: threading.Event | None = None) -> Iterator[tuple[dict[str, Any], int]]:
    """Tail a log from ``offset``: yield (event, offset_after) as lines are appended."""
    while stop is None or not stop.is_set():
        res = read_events(path, offset, max_bytes=8 << 20)
        if res.offset != offset:
            for event in res.events:
                yield event, res.offset
            offset = res.offset
            continue
        time.sleep(poll_s)
