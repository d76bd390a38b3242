"""View state of the console's batch panels, without Textual: the batch follower and frozen rows.

:class:`BatchFollower` is owned by the console's poll thread: it follows the batch event log
from a byte offset (never re-reading what it has seen), folds events into an engine
:class:`~engine.state.BatchState` and returns a :class:`BatchDelta` of what changed, as frozen
values the UI thread can keep. The UI never reads the follower itself. The job panels' views
(dataset, training, pipeline) live in :mod:`console.jobs_state`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from engine.state import FINAL_STATUSES, BatchState, VideoState

# Status -> (symbol, word): the symbol and the word make it readable without colour.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "queued": ("·", "queued"),
    "running": ("▶", "running"),
    "retry_wait": ("↻", "retry"),
    "done": ("✔", "done"),
    "skipped": ("»", "skipped"),
    "failed": ("✘", "failed"),
}
FILTERS = ("all", "running", "failed", "done")
RESUMABLE = ("stopped", "interrupted", "created", "error")  # states a resume continues
THROUGHPUT_WINDOW_S = 300.0
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


def fmt_duration(seconds: float | None) -> str:
    """``1h02m``, ``3m07s``, ``12.3s``; ``--`` when unknown."""
    if seconds is None or seconds < 0:
        return "--"
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def short_id(text: str, width: int = 32) -> str:
    """``text`` in at most ``width`` columns: its start and its end around an ellipsis.

    Video ids run to 128 characters; a full one would push a table row's other columns off screen.
    """
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[-(width - 1 - head):]


@dataclass(frozen=True, slots=True)
class VideoRow:
    """One video as the tables show it (a frozen copy of the engine's VideoState)."""

    key: str
    video_id: str
    platform_id: str
    status: str
    stage: str
    fraction: float
    attempts: int
    started_ts: float | None
    finished_ts: float | None
    wall_s: float | None
    error_class: str | None
    error_message: str | None
    transient: bool | None
    run_id: str | None
    worker: int | None

    def elapsed(self, now: float) -> float | None:
        if self.wall_s is not None and self.status == "done":
            return self.wall_s
        if self.started_ts is None:
            return None
        return (self.finished_ts or now) - self.started_ts if self.status != "queued" else None

    def matches(self, filter_name: str, search: str) -> bool:
        if filter_name == "running" and self.status not in ("running", "retry_wait"):
            return False
        if filter_name == "failed" and self.status != "failed":
            return False
        if filter_name == "done" and self.status not in ("done", "skipped"):
            return False
        return not search or search in self.key.lower() or search in (self.error_class or "").lower()


def row_of(v: VideoState) -> VideoRow:
    return VideoRow(v.key, v.video_id or v.key, v.platform_id, v.status, v.stage, v.fraction, v.attempts,
                    v.started_ts, v.finished_ts, v.wall_s, v.error_class, v.error_message, v.transient,
                    v.run_id, v.worker)


@dataclass(frozen=True)
class BatchSummary:
    """Header figures of a batch."""

    batch_id: str
    state: str  # the engine's state, or "interrupted" when no supervisor holds a running batch
    alive: bool
    counts: dict[str, int]
    per_min: float
    eta_s: float | None
    started_ts: float | None
    finished_ts: float | None

    def elapsed(self, now: float) -> float | None:
        if self.started_ts is None:
            return None
        return (self.finished_ts or now) - self.started_ts


@dataclass(frozen=True)
class WorkerRow:
    worker: int
    pid: int | None
    video: str | None
    cpu_pct: float | None
    rss_mb: float | None
    alive: bool


@dataclass(frozen=True)
class BatchDelta:
    """What changed since the previous poll (``first`` on the initial load)."""

    summary: BatchSummary
    rows: dict[str, VideoRow]
    order: tuple[str, ...]  # keys new to the console, in log order
    alerts: tuple[dict[str, Any], ...]
    metrics: dict[str, Any] | None
    workers: tuple[WorkerRow, ...]
    first: bool


ReadFn = Callable[[str, str, int], tuple[list[dict[str, Any]], int]]
AliveFn = Callable[[str, str], bool]


class BatchFollower:
    """Follows one batch's event log incrementally. Used from a single thread at a time."""

    def __init__(self, workspace: str | Path, batch_id: str, *, read: ReadFn | None = None,
                 alive: AliveFn | None = None, clock: Callable[[], float] = time.time) -> None:
        from engine import api

        self.workspace, self.batch_id = str(workspace), batch_id
        self._read: ReadFn = read or api.read_events_from
        self._alive: AliveFn = alive or api.supervisor_running
        self.clock = clock
        self.state = BatchState(batch_id=batch_id)
        self.offset = 0
        self._known: set[str] = set()
        self._running: set[str] = set()
        self._finished: deque[float] = deque()
        self._metrics_seen: dict[str, Any] | None = None
        self._polls = 0
        self._summary: BatchSummary | None = None
        self._was_alive: bool | None = None
        self._last_ts: float | None = None  # of the newest event: where an interrupted batch's clock stops
        self._list_total: int | None = None  # a never-started batch: the videos of its list
        self._invalid_ids: dict[str, tuple[str, str]] | None = None  # invalid list rows: key -> ids

    def poll(self, max_rounds: int = 64) -> BatchDelta:
        dirty: set[str] = set()
        alerts: list[dict[str, Any]] = []
        metrics = None
        for _ in range(max_rounds):  # 8 MiB per round; a huge log loads over a few polls at most
            events, new_offset = self._read(self.workspace, self.batch_id, self.offset)
            for ev in events:
                self.state.apply(ev)
                t = ev.get("type")
                if isinstance(ev.get("ts"), int | float):
                    self._last_ts = max(self._last_ts or 0.0, float(ev["ts"]))
                key = ev.get("key")
                if key is not None:
                    dirty.add(key)
                elif t == "alert":
                    alerts.append(self.state.alerts[-1])
                elif t == "metrics":
                    metrics = ev
                elif t in ("batch_finished", "batch_stopped"):
                    dirty |= self._running  # running rows were re-queued by the fold
            if new_offset == self.offset:
                break
            self.offset = new_offset
        alive = self._alive(self.workspace, self.batch_id)
        if alive != self._was_alive:
            # In flight reads as queued without a supervisor (as `vidops status` shows it): redraw them.
            dirty |= self._running
            self._was_alive = alive
        order = []
        rows = {}
        for key in dirty:
            v = self.state.videos.get(key)
            if v is None:
                continue
            row = row_of(v) if v.video_id else self._with_list_ids(row_of(v))
            rows[key] = row if alive or v.status != "running" else replace(row, status="queued")
            if v.status == "running":
                self._running.add(key)
            else:
                self._running.discard(key)
            if v.status in ("done", "failed") and v.finished_ts and self.clock() - v.finished_ts <= THROUGHPUT_WINDOW_S:
                self._finished.append(v.finished_ts)
        if len(self._finished) > 1 and self._finished[-1] < self._finished[-2]:
            self._finished = deque(sorted(self._finished))
        if dirty:
            order = [k for k in self.state.videos if k in dirty and k not in self._known]
            self._known.update(order)
        first = self._polls == 0
        self._polls += 1
        summary = self._summarize(alive, bool(dirty) or first)
        return BatchDelta(summary, rows, tuple(order), tuple(alerts), metrics, self._workers(metrics, alive), first)

    def _summarize(self, alive: bool, changed: bool) -> BatchSummary:
        s = self.state
        prev = self._summary
        counts = s.counts() if changed or prev is None else prev.counts
        state = s.state
        if not alive and state in ("running", "paused", "stopping", "unknown"):
            state = "interrupted" if s.events_seen else "created"
        if not alive and counts.get("running"):  # in flight when the supervisor went: resume re-queues them
            counts = {**counts, "queued": counts.get("queued", 0) + counts["running"], "running": 0}
        if state == "created" and not s.events_seen:
            counts = {**counts, "total": self._never_started_total(), "queued": self._never_started_total()}
        finished_ts = None if alive else (s.finished_ts or (self._last_ts if state == "interrupted" else None))
        if not alive and not changed and prev is not None and not prev.alive and prev.state == state:
            per_min, eta = prev.per_min, None  # nothing new: its rate at its end is the same (no 100k-video rescan)
        else:
            per_min, eta = self._throughput(alive, counts, finished_ts or self._last_ts)
        self._summary = BatchSummary(s.batch_id or self.batch_id, state, alive, counts, per_min, eta,
                                     s.started_ts, finished_ts)
        return self._summary

    def _with_list_ids(self, row: VideoRow) -> VideoRow:
        """An invalid list row (never queued, so the log has only its key) with the ids its list
        row gives, so the table shows its video id as for every other row. A row whose ids were
        unsafe or missing (key ``rowN``, not ``platform__video``) keeps its key."""
        if self._invalid_ids is None:
            from engine import api

            self._invalid_ids = api.invalid_list_ids(self.workspace, self.batch_id)
        platform_id, video_id = self._invalid_ids.get(row.key, ("", ""))
        if not video_id or row.key != f"{platform_id}__{video_id}":
            return row
        return replace(row, video_id=video_id, platform_id=platform_id)

    def _never_started_total(self) -> int:
        """The number of videos in a never-started batch's list (its event log is empty)."""
        if self._list_total is None:
            from engine import api

            try:
                self._list_total = int(api.batch_status(self.workspace, self.batch_id)["counts"]["total"])
            except (OSError, ValueError, KeyError, TypeError):
                self._list_total = 0
        return self._list_total

    def _throughput(self, alive: bool, counts: dict[str, int], end_ts: float | None) -> tuple[float, float | None]:
        s = self.state
        if not alive:  # a finished or stopped batch: measured at its end (an interrupted one: its last event),
            from engine.progress import throughput  # as `vidops status` measures it

            return (throughput(s, end_ts)[0] if end_ts else 0.0), None
        now = self.clock()
        while self._finished and now - self._finished[0] > THROUGHPUT_WINDOW_S:
            self._finished.popleft()
        if not self._finished:
            return 0.0, None
        span = max(now - self._finished[0], 1.0)
        if s.started_ts:
            span = max(min(span, now - s.started_ts), 1.0)
        per_s = len(self._finished) / span
        remaining = counts["queued"] + counts["running"]
        return round(per_s * 60, 2), round(remaining / per_s, 1)

    def _workers(self, metrics: dict[str, Any] | None, alive: bool = True) -> tuple[WorkerRow, ...]:
        """Without a live supervisor no worker runs (a finished batch logs no worker_exited)."""
        if metrics is not None:
            self._metrics_seen = metrics
        live = (self._metrics_seen or {}).get("workers") or {}
        running = self._running if alive else set()
        by_worker = {self.state.videos[k].worker: k for k in running if k in self.state.videos}
        rows = []
        for wid, w in sorted(self.state.workers.items()):
            m = live.get(str(wid)) or {}
            rows.append(WorkerRow(wid, w.get("pid"), by_worker.get(wid), m.get("cpu_pct"), m.get("rss_mb"),
                                  bool(w.get("alive")) and alive))
        return tuple(rows)


def sort_alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first within severity (errors, then warnings, then info)."""
    return sorted(alerts, key=lambda a: (SEVERITY_RANK.get(str(a.get("severity")), 3), -float(a.get("ts") or 0)))


# -- dataset and training jobs ------------------------------------------------------------


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES
