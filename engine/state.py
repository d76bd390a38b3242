"""Batch state rebuilt from the ``state.jsonl`` event log (the source of truth).

:class:`BatchState` folds events one at a time, so the same code serves a full replay
(status, resume), an incremental follower (console, attach) and the live supervisor.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from engine.events import read_events

FINAL_STATUSES = frozenset({"done", "skipped", "failed"})


@dataclass(slots=True)  # one per video: slots keep a 100k-video state small
class VideoState:
    key: str
    platform_id: str = ""
    video_id: str = ""
    status: str = "queued"  # queued | running | retry_wait | done | skipped | failed
    attempts: int = 0  # starts so far
    counted_failures: int = 0  # failures that use up the retry budget (not interruptions)
    stage: str = ""
    fraction: float = 0.0
    worker: int | None = None
    pid: int | None = None
    started_ts: float | None = None
    finished_ts: float | None = None
    wall_s: float | None = None
    run_id: str | None = None
    error_class: str | None = None
    error_message: str | None = None
    transient: bool | None = None
    skip_reason: str | None = None
    batch_size_scale: float = 1.0
    components: dict[str, str] = field(default_factory=dict)


@dataclass
class BatchState:
    batch_id: str = ""
    state: str = "unknown"  # created | running | paused | stopping | stopped | finished | error
    total: int = 0
    config_hash: str = ""
    started_ts: float | None = None
    finished_ts: float | None = None
    last_ts: float | None = None  # of the newest event: where an interrupted batch's clock stops
    videos: dict[str, VideoState] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    workers: dict[int, dict[str, Any]] = field(default_factory=dict)
    last_metrics: dict[str, Any] = field(default_factory=dict)
    offset: int = 0
    skipped_lines: int = 0
    events_seen: int = 0

    def video(self, key: str) -> VideoState:
        try:
            return self.videos[key]
        except KeyError:
            v = self.videos[key] = VideoState(key)
            return v

    def apply(self, ev: dict[str, Any]) -> None:
        self.events_seen += 1
        ts = ev.get("ts")
        if isinstance(ts, int | float) and (self.last_ts is None or ts > self.last_ts):
            self.last_ts = float(ts)
        handler = _HANDLERS.get(ev["type"])
        if handler is not None:
            handler(self, ev)

    def counts(self) -> dict[str, int]:
        c = Counter(v.status for v in self.videos.values())
        return {
            "total": max(self.total, len(self.videos)),
            "queued": c["queued"] + c["retry_wait"],
            "running": c["running"],
            "done": c["done"],
            "skipped": c["skipped"],
            "failed": c["failed"],
        }

    def unfinished(self) -> list[VideoState]:
        return [v for v in self.videos.values() if v.status not in FINAL_STATUSES]

    def failed(self) -> list[VideoState]:
        return [v for v in self.videos.values() if v.status == "failed"]


def retry_candidates(state: BatchState, keys: list[str], all_failed: bool, include_permanent: bool) -> list[str]:
    """Failed videos a retry re-queues: the named ones whatever their class; with ``all_failed``
    every transient (or unknown) failure, and permanent ones too with ``include_permanent``."""
    chosen = [k for k in keys if k in state.videos and state.videos[k].status == "failed"]
    if all_failed:
        chosen += [v.key for v in state.failed()
                   if v.key not in chosen and (include_permanent or v.transient or v.error_class == "unknown")]
    return chosen


def _batch_started(s: BatchState, ev: dict[str, Any]) -> None:
    s.batch_id = ev.get("batch_id", s.batch_id)
    s.total = int(ev.get("total", s.total))
    s.config_hash = ev.get("config_hash", s.config_hash)
    s.started_ts = s.started_ts or ev.get("ts")
    s.state = "running"
    s.finished_ts = None


def _queued(s: BatchState, ev: dict[str, Any]) -> None:
    v = s.video(ev["key"])
    v.platform_id = ev.get("platform_id", v.platform_id)
    v.video_id = ev.get("video_id", v.video_id)
    v.status = "queued"
    if ev.get("reset_budget"):
        v.counted_failures = 0


def _started(s: BatchState, ev: dict[str, Any]) -> None:
    v = s.video(ev["key"])
    v.status = "running"
    v.attempts = int(ev.get("attempt", v.attempts + 1))
    v.worker, v.pid = ev.get("worker"), ev.get("pid")
    v.started_ts = ev.get("ts")
    v.stage, v.fraction = "starting", 0.0
    v.batch_size_scale = float(ev.get("batch_size_scale", v.batch_size_scale))
    v.run_id = ev.get("run_id", v.run_id)


def _progress(s: BatchState, ev: dict[str, Any]) -> None:
    v = s.video(ev["key"])
    v.stage = ev.get("stage", v.stage)
    v.fraction = float(ev.get("fraction", v.fraction))


def _component(s: BatchState, ev: dict[str, Any]) -> None:
    s.video(ev["key"]).components[ev.get("component", "?")] = ev.get("status", "done")


def _succeeded(s: BatchState, ev: dict[str, Any]) -> None:
    v = s.video(ev["key"])
    v.status, v.stage, v.fraction = "done", "done", 1.0
    v.finished_ts, v.wall_s = ev.get("ts"), ev.get("wall_s")
    v.run_id = ev.get("run_id", v.run_id)
    v.error_class = v.error_message = None
    v.worker = v.pid = None


def _failed(s: BatchState, ev: dict[str, Any]) -> None:
    v = s.video(ev["key"])
    v.error_class, v.error_message = ev.get("error_class"), ev.get("message")
    v.transient = ev.get("transient")
    v.worker = v.pid = None
    if ev.get("counted", True):
        v.counted_failures += 1
    if ev.get("final", True):
        v.status, v.finished_ts = "failed", ev.get("ts")
    else:
        v.status = "retry_wait"


def _skipped(s: BatchState, ev: dict[str, Any]) -> None:
    v = s.video(ev["key"])
    v.platform_id = ev.get("platform_id", v.platform_id)
    v.video_id = ev.get("video_id", v.video_id)
    v.status, v.skip_reason, v.finished_ts = "skipped", ev.get("reason"), ev.get("ts")
    v.run_id = ev.get("run_id", v.run_id)


def _retry_scheduled(s: BatchState, ev: dict[str, Any]) -> None:
    v = s.video(ev["key"])
    v.status = "retry_wait"
    v.batch_size_scale = float(ev.get("batch_size_scale", v.batch_size_scale))


def _alert(s: BatchState, ev: dict[str, Any]) -> None:
    s.alerts.append({k: ev.get(k) for k in ("ts", "kind", "severity", "message")})
    del s.alerts[:-200]  # keep the newest; the log has them all


def _worker_started(s: BatchState, ev: dict[str, Any]) -> None:
    s.workers[int(ev["worker"])] = {"pid": ev.get("pid"), "video": None, "alive": True}


def _worker_exited(s: BatchState, ev: dict[str, Any]) -> None:
    w = s.workers.get(int(ev["worker"]))
    if w is not None:
        w["alive"] = False


def _metrics(s: BatchState, ev: dict[str, Any]) -> None:
    s.last_metrics = ev


def _set_state(name: str) -> Callable[[BatchState, dict[str, Any]], None]:
    def handler(s: BatchState, ev: dict[str, Any]) -> None:
        s.state = ev.get("state", name)
        if name in ("finished", "stopped"):
            s.finished_ts = ev.get("ts")
            for v in s.videos.values():
                if v.status == "running":  # died with the supervisor: resume re-queues it
                    v.status = "queued"
            for w in s.workers.values():  # the supervisor shuts its workers down after this event
                w["alive"], w["video"] = False, None

    return handler


_HANDLERS = {
    "batch_started": _batch_started,
    "video_queued": _queued,
    "video_started": _started,
    "video_progress": _progress,
    "video_component_done": _component,
    "video_succeeded": _succeeded,
    "video_failed": _failed,
    "video_skipped": _skipped,
    "video_retry_scheduled": _retry_scheduled,
    "alert": _alert,
    "worker_started": _worker_started,
    "worker_exited": _worker_exited,
    "metrics": _metrics,
    "batch_paused": _set_state("paused"),
    "batch_resumed": _set_state("running"),
    "batch_stopped": _set_state("stopped"),
    "batch_finished": _set_state("finished"),
}


def replay(path: str | os.PathLike[str], state: BatchState | None = None) -> BatchState:
    """Fold every complete event from ``state.offset`` on (a full replay for a new state)."""
    state = state or BatchState()
    progress: dict[bytes, bytes] = {}
    while True:
        res = read_events(path, state.offset, max_bytes=16 << 20, defer_progress=progress)
        get = _HANDLERS.get  # BatchState.apply, inlined: this loop folds every event of a big log
        for ev in res.events:
            handler = get(ev["type"])
            if handler is not None:
                handler(state, ev)
        if res.events:  # once per chunk, not per event (the log is in time order)
            ts = res.events[-1].get("ts")
            if isinstance(ts, int | float) and (state.last_ts is None or ts > state.last_ts):
                state.last_ts = float(ts)
        state.events_seen += len(res.events)
        state.skipped_lines += res.skipped
        if res.offset == state.offset:
            break
        state.offset = res.offset
    # Stage and fraction only matter while a video runs: apply its last progress event.
    for key, raw in progress.items():
        v = state.videos.get(key.decode())
        if v is not None and v.status == "running":
            state.apply(orjson.loads(raw))
    return state
