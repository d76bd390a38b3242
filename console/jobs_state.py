"""View state of the console's job panels (dataset build, training, pipeline), without Textual.

:class:`JobsFollower` is owned by the poll thread: it follows the newest job log of each kind
from a byte offset and returns frozen views the UI thread can keep.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
