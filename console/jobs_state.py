"""View state of the console's job panels (dataset build, training, pipeline), without Textual.

:class:`JobsFollower` is owned by the poll thread: it follows the newest job log of each kind
from a byte offset and returns frozen views the UI thread can keep.
"""

from __future__ import annotations

import json
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
    warnings: list[str] = field(default_factory=list)  # e.g. result-store runs only under other config hashes
    error: str = ""

    def apply(self, ev: dict[str, Any]) -> None:
        handler = _DATASET_HANDLERS.get(str(ev.get("type")))
        if handler is not None:
            handler(self, ev)


def _ds_started(v: DatasetView, ev: dict[str, Any]) -> None:
    v.snapshots, v.out = str(ev.get("snapshots", "")), str(ev.get("out", ""))


def _ds_progress(v: DatasetView, ev: dict[str, Any]) -> None:
    v.stage = str(ev.get("stage", v.stage))
    v.rows_done, v.rows_total = int(ev.get("rows_done") or 0), int(ev.get("rows_total") or 0)


def _ds_finished(v: DatasetView, ev: dict[str, Any]) -> None:
    v.state, v.stage = "finished", "done"
    v.rows, v.coverage = ev.get("rows"), dict(ev.get("coverage") or {})
    v.duration_s, v.out = ev.get("duration_s"), str(ev.get("out", v.out))
    v.warnings = [str(w) for w in ev.get("warnings") or ()]


def _failed(v: DatasetView | TrainView, ev: dict[str, Any]) -> None:
    v.state, v.error = "failed", str(ev.get("message", ""))


_DATASET_HANDLERS: dict[str, Callable[[DatasetView, dict[str, Any]], None]] = {
    "dataset_started": _ds_started, "dataset_progress": _ds_progress, "dataset_finished": _ds_finished,
    "dataset_failed": _failed, "job_failed": _failed,
}


@dataclass
class TrainView:
    """The current or last training run: loss curves per target and final metrics."""

    job_id: str = ""
    state: str = "running"
    targets: list[str] = field(default_factory=list)
    curves: dict[str, tuple[list[int], list[float], list[float]]] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # target -> why it was not trained
    run_dir: str = ""
    error: str = ""
    curves_loaded: bool = False  # the run's learning_curves.jsonl replaced the throttled live curves

    def apply(self, ev: dict[str, Any]) -> None:
        handler = _TRAIN_HANDLERS.get(str(ev.get("type")))
        if handler is not None:
            handler(self, ev)


def _tr_started(v: TrainView, ev: dict[str, Any]) -> None:
    v.targets, v.run_dir = list(ev.get("targets") or []), str(ev.get("run_dir", ""))


def _tr_progress(v: TrainView, ev: dict[str, Any]) -> None:
    its, tr, va = v.curves.setdefault(str(ev.get("target")), ([], [], []))
    its.append(int(ev.get("iteration") or 0))
    tr.append(float(ev.get("train_loss") or 0.0))
    val = ev.get("val_loss")
    va.append(float(val) if val is not None else float("nan"))


def _tr_target_done(v: TrainView, ev: dict[str, Any]) -> None:
    v.metrics[str(ev.get("target"))] = dict(ev.get("metrics") or {})


def _tr_target_skipped(v: TrainView, ev: dict[str, Any]) -> None:
    v.skipped[str(ev.get("target"))] = str(ev.get("reason", ""))


def _tr_finished(v: TrainView, ev: dict[str, Any]) -> None:
    v.state, v.run_dir = "finished", str(ev.get("run_dir", v.run_dir))
    v.metrics.update({k: dict(m) for k, m in (ev.get("metrics") or {}).items()})
    v.skipped.update({str(k): str(r) for k, r in (ev.get("skipped") or {}).items()})


CURVE_POINTS = 400  # per target, from the run's full learning curves (the chart is at most a screen wide)


def load_learning_curves(path: Path) -> dict[str, tuple[list[int], list[float], list[float]]]:
    """A finished run's ``learning_curves.jsonl`` (every iteration of every trained target) as the
    curves the chart draws, thinned to about CURVE_POINTS per target, the last iteration kept.

    The live ``train_progress`` events are throttled (at most one per target every 0.25 s), so a
    target that trains in under that time has a single point there; the file has them all."""
    rows: dict[str, list[tuple[int, float, float]]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    for line in lines:
        try:
            r = json.loads(line)
            val = r.get("val_loss")
            rows.setdefault(str(r["target"]), []).append(
                (int(r["iteration"]), float(r["train_loss"]), float(val) if val is not None else float("nan")))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
    curves = {}
    for target, pts in rows.items():
        step = max(1, -(-len(pts) // CURVE_POINTS))
        kept = pts[::step] if pts[::step][-1] == pts[-1] else [*pts[::step], pts[-1]]
        curves[target] = ([p[0] for p in kept], [p[1] for p in kept], [p[2] for p in kept])
    return curves


_TRAIN_HANDLERS: dict[str, Callable[[TrainView, dict[str, Any]], None]] = {
    "train_started": _tr_started, "train_progress": _tr_progress, "train_target_done": _tr_target_done,
    "train_target_skipped": _tr_target_skipped, "train_finished": _tr_finished,
    "train_failed": _failed, "job_failed": _failed,
}


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
        ts = ev.get("ts")
        if self.started_ts is None and isinstance(ts, (int, float)):
            self.started_ts = float(ts)
        handler = _PIPELINE_HANDLERS.get(str(ev.get("type")))
        if handler is not None:
            handler(self, ev)


def _pl_stage(p: PipelineView, ev: dict[str, Any]) -> None:
    p.name = str(ev.get("pipeline") or p.name)
    st = p.stages.setdefault(str(ev.get("stage")), StageView(str(ev.get("stage"))))
    st.status = str(ev.get("status") or st.status)
    st.detail.update({k: v for k, v in ev.items() if k not in _STAGE_KEYS})
    if st.status == "running":
        st.started_ts, st.finished_ts = ev.get("ts"), None
    else:
        st.finished_ts = ev.get("ts")


def _stage_progress(stage: str, text: Callable[[dict[str, Any]], str]) -> Callable[[PipelineView, dict[str, Any]], None]:
    """A handler that shows a nested dataset/train event as the progress line of that stage."""
    def handler(p: PipelineView, ev: dict[str, Any]) -> None:
        p.stages[stage].progress = text(ev)
    return handler


def _pl_finished(p: PipelineView, ev: dict[str, Any]) -> None:
    p.state, p.finished_ts, p.wall_s = "finished", ev.get("ts"), ev.get("wall_s")
    p.name = str(ev.get("pipeline") or p.name)
    p.batch_id, p.dataset, p.model = ev.get("batch_id"), str(ev.get("dataset") or ""), str(ev.get("model") or "")
    p.prediction_files = [str(f) for f in ev.get("predictions") or []]


def _pl_job_finished(p: PipelineView, ev: dict[str, Any]) -> None:
    p.state = "finished"
    p.finished_ts = p.finished_ts or ev.get("ts")


def _pl_job_failed(p: PipelineView, ev: dict[str, Any]) -> None:
    ts = ev.get("ts")
    p.state, p.finished_ts, p.error = "failed", ts, str(ev.get("message", ""))
    for st in p.stages.values():
        if st.status == "running":
            st.status, st.finished_ts = "failed", ts


_PIPELINE_HANDLERS: dict[str, Callable[[PipelineView, dict[str, Any]], None]] = {
    "pipeline_stage": _pl_stage,
    "dataset_progress": _stage_progress(
        "dataset", lambda ev: f"{ev.get('stage')} {ev.get('rows_done') or 0}/{ev.get('rows_total') or 0} rows"),
    "dataset_finished": _stage_progress("dataset", lambda ev: f"{ev.get('rows')} rows"),
    "train_started": _stage_progress("train", lambda ev: f"{len(ev.get('targets') or [])} targets"),
    "train_progress": _stage_progress("train", lambda ev: f"{ev.get('target')} iteration {ev.get('iteration')}"),
    "train_finished": _stage_progress("train", lambda ev: f"{len(ev.get('metrics') or {})} targets trained"),
    "pipeline_finished": _pl_finished,
    "job_finished": _pl_job_finished,
    "job_failed": _pl_job_failed,
}


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
        if isinstance(tr, TrainView) and tr.state == "finished" and tr.run_dir and not tr.curves_loaded:
            tr.curves_loaded = True  # once, in this thread
            run_dir = Path(tr.run_dir) if Path(tr.run_dir).is_absolute() else Path(self.workspace) / tr.run_dir
            full = load_learning_curves(run_dir / "learning_curves.jsonl")
            if full:  # in the live curves' order (the order the targets trained in)
                tr.curves = {t: full[t] for t in [*tr.curves, *full] if t in full}
                changed = True
        return (ds if isinstance(ds, DatasetView) else None), (tr if isinstance(tr, TrainView) else None), changed

    @property
    def pipeline(self) -> PipelineView | None:
        """The newest pipeline job's view (None: no pipeline has run)."""
        view = self.views.get("pipeline")
        return view if isinstance(view, PipelineView) else None


_VIEWS: dict[str, type[DatasetView] | type[TrainView] | type[PipelineView]] = {
    "dataset": DatasetView, "train": TrainView, "pipeline": PipelineView}
