"""View state of the console, without Textual: batch and job followers and immutable rows.

:class:`BatchFollower` is owned by the console's poll thread: it follows the batch event log
from a byte offset (never re-reading what it has seen), folds events into an engine
:class:`~engine.state.BatchState` and returns a :class:`BatchDelta` of what changed, as frozen
values the UI thread can keep. The UI never reads the follower itself.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
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

    def poll(self, max_rounds: int = 64) -> BatchDelta:
        dirty: set[str] = set()
        alerts: list[dict[str, Any]] = []
        metrics = None
        for _ in range(max_rounds):  # 8 MiB per round; a huge log loads over a few polls at most
            events, new_offset = self._read(self.workspace, self.batch_id, self.offset)
            for ev in events:
                self.state.apply(ev)
                t = ev.get("type")
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
        order = []
        rows = {}
        for key in dirty:
            v = self.state.videos.get(key)
            if v is None:
                continue
            rows[key] = row_of(v)
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
        alive = self._alive(self.workspace, self.batch_id)
        summary = self._summarize(alive, bool(dirty) or first)
        return BatchDelta(summary, rows, tuple(order), tuple(alerts), metrics, self._workers(metrics), first)

    def _summarize(self, alive: bool, changed: bool) -> BatchSummary:
        s = self.state
        prev = self._summary
        counts = s.counts() if changed or prev is None else prev.counts
        state = s.state
        if not alive and state in ("running", "paused", "stopping", "unknown"):
            state = "interrupted" if s.events_seen else "created"
        per_min, eta = self._throughput(alive, counts)
        self._summary = BatchSummary(s.batch_id or self.batch_id, state, alive, counts, per_min, eta,
                                     s.started_ts, s.finished_ts if not alive else None)
        return self._summary

    def _throughput(self, alive: bool, counts: dict[str, int]) -> tuple[float, float | None]:
        s = self.state
        finished = counts["done"] + counts["failed"]
        if not alive:  # a finished or stopped batch: its average rate
            span = (s.finished_ts or 0) - (s.started_ts or 0)
            return (round(finished / span * 60, 2) if span > 0 and finished else 0.0), None
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

    def _workers(self, metrics: dict[str, Any] | None) -> tuple[WorkerRow, ...]:
        if metrics is not None:
            self._metrics_seen = metrics
        live = (self._metrics_seen or {}).get("workers") or {}
        by_worker = {self.state.videos[k].worker: k for k in self._running if k in self.state.videos}
        rows = []
        for wid, w in sorted(self.state.workers.items()):
            m = live.get(str(wid)) or {}
            rows.append(WorkerRow(wid, w.get("pid"), by_worker.get(wid), m.get("cpu_pct"), m.get("rss_mb"),
                                  bool(w.get("alive"))))
        return tuple(rows)


def sort_alerts(alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first within severity (errors, then warnings, then info)."""
    return sorted(alerts, key=lambda a: (SEVERITY_RANK.get(str(a.get("severity")), 3), -float(a.get("ts") or 0)))


# -- dataset and training jobs ------------------------------------------------------------
@dataclass
class DatasetView:
    """The current or last dataset build, folded from its job events."""

    job_id: str = ""
    state: str = "running"  # running | finished | failed
    stage: str = ""
    rows_done: int = 0
    rows_total: int = 0
    rows: int | None = None
    coverage: dict[str, dict[str, int]] = field(default_factory=dict)
    duration_s: float | None = None
    out: str = ""
    snapshots: str = ""
    error: str = ""

    def apply(self, ev: dict[str, Any]) -> None:
        t = ev.get("type")
        if t == "dataset_started":
            self.snapshots, self.out = str(ev.get("snapshots", "")), str(ev.get("out", ""))
        elif t == "dataset_progress":
            self.stage = str(ev.get("stage", self.stage))
            self.rows_done, self.rows_total = int(ev.get("rows_done") or 0), int(ev.get("rows_total") or 0)
        elif t == "dataset_finished":
            self.state, self.stage = "finished", "done"
            self.rows, self.coverage = ev.get("rows"), dict(ev.get("coverage") or {})
            self.duration_s, self.out = ev.get("duration_s"), str(ev.get("out", self.out))
        elif t in ("dataset_failed", "job_failed"):
            self.state, self.error = "failed", str(ev.get("message", ""))


@dataclass
class TrainView:
    """The current or last training run: loss curves per target and final metrics."""

    job_id: str = ""
    state: str = "running"
    targets: list[str] = field(default_factory=list)
    curves: dict[str, tuple[list[int], list[float], list[float]]] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_dir: str = ""
    error: str = ""

    def apply(self, ev: dict[str, Any]) -> None:
        t = ev.get("type")
        if t == "train_started":
            self.targets, self.run_dir = list(ev.get("targets") or []), str(ev.get("run_dir", ""))
        elif t == "train_progress":
            its, tr, va = self.curves.setdefault(str(ev.get("target")), ([], [], []))
            its.append(int(ev.get("iteration") or 0))
            tr.append(float(ev.get("train_loss") or 0.0))
            val = ev.get("val_loss")
            va.append(float(val) if val is not None else float("nan"))
        elif t == "train_target_done":
            self.metrics[str(ev.get("target"))] = dict(ev.get("metrics") or {})
        elif t == "train_finished":
            self.state, self.run_dir = "finished", str(ev.get("run_dir", self.run_dir))
            self.metrics.update({k: dict(v) for k, v in (ev.get("metrics") or {}).items()})
        elif t in ("train_failed", "job_failed"):
            self.state, self.error = "failed", str(ev.get("message", ""))


# -- the whole-system pipeline job -------------------------------------------------------
PIPELINE_STAGES = ("extract", "dataset", "train", "predict")
# Stage status -> (symbol, word), readable without colour like STATUS_LABELS.
STAGE_LABELS: dict[str, tuple[str, str]] = {
    "pending": ("·", "pending"),
    "running": ("▶", "running"),
    "done": ("✔", "done"),
    "skipped": ("»", "skipped"),
    "failed": ("✘", "failed"),
}
_STAGE_KEYS = ("v", "type", "ts", "job_id", "pipeline", "stage", "status")


@dataclass
class StageView:
    """One stage of a pipeline: status, the fields of its last ``pipeline_stage`` event, times."""

    name: str
    status: str = "pending"
    detail: dict[str, Any] = field(default_factory=dict)  # batch_id, out, run_dir, reason, files, exit_code...
    started_ts: float | None = None
    finished_ts: float | None = None
    progress: str = ""  # from the nested dataset/train events the pipeline log also carries

    def duration(self, now: float) -> float | None:
        if self.started_ts is None or self.status in ("pending", "skipped"):
            return None
        return (self.finished_ts or now) - self.started_ts


@dataclass(frozen=True)
class PredictionView:
    """One prediction file of a finished pipeline (read once, in the poll thread)."""

    path: str
    video_id: str = ""
    platform_id: str = ""
    # metric -> horizon key ("7d") -> {"value", "low", "high", "confidence"}
    table: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    error: str = ""


def load_prediction(path: str) -> PredictionView:
    """Read a prediction document (docs/model.md); a bad file becomes an error line, not a crash."""
    import json

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        table = {str(metric): {str(h): {k: cell.get(k) for k in ("value", "low", "high", "confidence")}
                               for h, cell in per.items()}
                 for metric, per in (doc.get("predictions") or {}).items()}
        return PredictionView(path, str(doc.get("video_id") or ""), str(doc.get("platform_id") or ""), table)
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        return PredictionView(path, error=f"cannot read {path}: {exc}")


@dataclass
class PipelineView:
    """The current or last ``pipeline`` job: its stages, and the prediction when it finished."""

    job_id: str = ""
    name: str = ""
    state: str = "running"  # running | finished | failed
    stages: dict[str, StageView] = field(default_factory=lambda: {s: StageView(s) for s in PIPELINE_STAGES})
    started_ts: float | None = None
    finished_ts: float | None = None
    wall_s: float | None = None
    batch_id: str | None = None
    dataset: str = ""
    model: str = ""
    prediction_files: list[str] = field(default_factory=list)
    predictions: list[PredictionView] = field(default_factory=list)
    predictions_loaded: bool = False
    error: str = ""

    def elapsed(self, now: float) -> float | None:
        if self.wall_s is not None and self.state == "finished":
            return self.wall_s
        if self.started_ts is None:
            return None
        return (self.finished_ts or now) - self.started_ts

    def apply(self, ev: dict[str, Any]) -> None:
        t = ev.get("type")
        ts = ev.get("ts")
        if self.started_ts is None and isinstance(ts, (int, float)):
            self.started_ts = float(ts)
        if t == "pipeline_stage":
            self.name = str(ev.get("pipeline") or self.name)
            st = self.stages.setdefault(str(ev.get("stage")), StageView(str(ev.get("stage"))))
            st.status = str(ev.get("status") or st.status)
            st.detail.update({k: v for k, v in ev.items() if k not in _STAGE_KEYS})
            if st.status == "running":
                st.started_ts, st.finished_ts = ts, None
            else:
                st.finished_ts = ts
        elif t == "dataset_progress":
            done, total = ev.get("rows_done") or 0, ev.get("rows_total") or 0
            self.stages["dataset"].progress = f"{ev.get('stage')} {done}/{total} rows"
        elif t == "dataset_finished":
            self.stages["dataset"].progress = f"{ev.get('rows')} rows"
        elif t == "train_started":
            self.stages["train"].progress = f"{len(ev.get('targets') or [])} targets"
        elif t == "train_progress":
            self.stages["train"].progress = f"{ev.get('target')} iteration {ev.get('iteration')}"
        elif t == "train_finished":
            self.stages["train"].progress = f"{len(ev.get('metrics') or {})} targets trained"
        elif t == "pipeline_finished":
            self.state, self.finished_ts, self.wall_s = "finished", ts, ev.get("wall_s")
            self.name = str(ev.get("pipeline") or self.name)
            self.batch_id, self.dataset, self.model = ev.get("batch_id"), str(ev.get("dataset") or ""), \
                str(ev.get("model") or "")
            self.prediction_files = [str(p) for p in ev.get("predictions") or []]
        elif t == "job_finished":
            self.state = "finished"
            self.finished_ts = self.finished_ts or ts
        elif t == "job_failed":
            self.state, self.finished_ts, self.error = "failed", ts, str(ev.get("message", ""))
            for st in self.stages.values():
                if st.status == "running":
                    st.status, st.finished_ts = "failed", ts


class JobsFollower:
    """Follows the newest dataset, training and pipeline job of a workspace.

    A pipeline's dataset and train stages write their own ``dataset-*`` / ``train-*`` job logs,
    so they become the newest of their kind and the Dataset and Training panels follow them.
    """

    KINDS = ("dataset", "train", "pipeline")
    LIST_EVERY_S = 5.0

    def __init__(self, workspace: str | Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.workspace = str(workspace)
        self.clock = clock
        self._next_list = 0.0
        self._followed: dict[str, tuple[str, int]] = {}  # kind -> (job_id, offset)
        self.views: dict[str, DatasetView | TrainView | PipelineView] = {}

    def rescan_soon(self) -> None:
        self._next_list = 0.0

    def poll(self) -> tuple[DatasetView | None, TrainView | None, bool]:
        """(dataset view, train view, changed)."""
        from engine import jobs

        changed = False
        pl = self.pipeline
        # While a pipeline runs its stages start new dataset-/train- jobs: list the jobs every poll.
        if self.clock() >= self._next_list or (pl is not None and pl.state == "running"):
            self._next_list = self.clock() + self.LIST_EVERY_S
            newest: dict[str, str] = {}
            root = jobs.jobs_dir(self.workspace)
            if root.is_dir():
                for d in sorted(root.iterdir(), key=lambda p: p.name):  # ids sort by time
                    kind = d.name.split("-", 1)[0]
                    if kind in self.KINDS and (d / "events.jsonl").is_file():
                        newest[kind] = d.name
            for kind, job_id in newest.items():
                if self._followed.get(kind, ("", 0))[0] != job_id:
                    self._followed[kind] = (job_id, 0)
                    self.views[kind] = _VIEWS[kind](job_id)
                    changed = True
        for kind, (job_id, offset) in list(self._followed.items()):
            events, new_offset = jobs.job_events(self.workspace, job_id, offset)
            if new_offset != offset:
                self._followed[kind] = (job_id, new_offset)
                view = self.views[kind]
                for ev in events:
                    view.apply(ev)
                changed = True
        pl = self.pipeline
        if pl is not None and pl.prediction_files and not pl.predictions_loaded:
            pl.predictions = [load_prediction(p) for p in pl.prediction_files]  # once, in this thread
            pl.predictions_loaded = changed = True
        ds, tr = self.views.get("dataset"), self.views.get("train")
        return (ds if isinstance(ds, DatasetView) else None), (tr if isinstance(tr, TrainView) else None), changed

    @property
    def pipeline(self) -> PipelineView | None:
        """The newest pipeline job's view (None: no pipeline has run)."""
        view = self.views.get("pipeline")
        return view if isinstance(view, PipelineView) else None


_VIEWS: dict[str, type[DatasetView] | type[TrainView] | type[PipelineView]] = {
    "dataset": DatasetView, "train": TrainView, "pipeline": PipelineView}


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES
