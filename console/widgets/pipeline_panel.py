"""The pipeline panel: the newest ``vidops demo`` / ``vidops pipeline`` job, stage by stage.

Each stage (extract, dataset, train, predict) shows a symbol and a word (readable without
colour), its duration and its detail; when the job finished, each prediction file is shown as
a metric x horizon table of predicted growth (delta), its interval and confidence. The batch,
the dataset build and the training curves themselves are in the Videos, Dataset and Training
tabs, which follow the jobs the stages start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.jobs_state import STAGE_LABELS, PipelineView, PredictionView, StageView
from console.state import fmt_duration
from engine.hints import vidops_command

STATE_STYLE = {"finished": "bold green", "failed": "bold red"}
STAGE_STYLE = {"running": "bold cyan", "done": "green", "skipped": "dim", "failed": "bold red"}
METRIC_ORDER = ("views", "likes", "dislikes", "comments")
WHERE = {"extract": "Videos tab", "dataset": "Dataset tab", "train": "Training tab"}


def nothing_yet(workspace: str | Path | None = None) -> str:
    """The panel before any pipeline: the commands name ``--workspace`` unless it is ./workspace."""
    return (f"No pipeline has run in this workspace yet. `{vidops_command('demo', workspace)}` starts one (extract, "
            f"dataset, train, predict on bundled data); `{vidops_command('pipeline --snapshots FILE', workspace)}` "
            "runs it on yours.")


def fmt_count(value: Any) -> str:
    """Compact counts: ``987``, ``12.3k``, ``4.56M``; ``-`` when missing."""
    if not isinstance(value, (int, float)):
        return "-"
    v = float(value)
    for limit, div, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(v) >= limit:
            return f"{v / div:.3g}{suffix}"
    return f"{v:,.0f}"


def fmt_cell(cell: dict[str, Any]) -> str:
    """``value (low–high) confidence%`` of one metric x horizon prediction."""
    conf = cell.get("confidence")
    pct = f" {100 * float(conf):.0f}%" if isinstance(conf, (int, float)) else ""
    return f"{fmt_count(cell.get('value'))} ({fmt_count(cell.get('low'))}–{fmt_count(cell.get('high'))}){pct}"


def _horizon_days(key: str) -> float:
    try:
        return float(key.rstrip("d"))
    except ValueError:
        return float("inf")


class PipelinePanel(Static):
    """Renders a :class:`PipelineView`; ``now`` ticks the elapsed clock while the job runs."""

    # layout: height auto; without it the panel keeps the height of its first text
    view: reactive[PipelineView | None] = reactive(None, always_update=True, layout=True)
    now: reactive[float] = reactive(0.0)

    def __init__(self, workspace: str | Path = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.given_workspace = workspace or None  # as the user named it, for the hint
        self.workspace = Path(workspace).resolve() if workspace else None

    def tick(self, now: float) -> None:
        if self.view is not None and self.view.state == "running":
            self.now = now

    def short(self, path: str) -> str:
        """A path relative to the workspace when it lies inside it (paths in the log are absolute)."""
        if self.workspace is not None:
            try:
                return str(Path(path).relative_to(self.workspace))
            except ValueError:
                pass
        return path

    def render(self) -> Text:
        v = self.view
        if v is None:
            return Text(nothing_yet(self.given_workspace))
        t = Text()
        t.append(f"pipeline {v.name or '?'} ", "bold")
        t.append(f"[{v.state}]", STATE_STYLE.get(v.state, "bold cyan"))
        t.append(f" elapsed {fmt_duration(v.elapsed(self.now or (v.finished_ts or 0.0)))}  ")
        t.append(f"job {v.job_id}\n\n", "dim")
        for stage in v.stages.values():
            self._stage_line(t, stage)
        if v.error:
            t.append(f"\nerror: {v.error}\n", "bold red")
        if v.state == "finished" and not v.prediction_files:
            t.append("\nno prediction was asked for (the predict stage was skipped)\n", "dim")
        for pred in v.predictions:
            self._prediction(t, pred)
        return t

    def _stage_line(self, t: Text, st: StageView) -> None:
        symbol, word = STAGE_LABELS.get(st.status, ("?", st.status))
        t.append(f"{symbol} {word:<8}", STAGE_STYLE.get(st.status, ""))
        t.append(f" {st.name:<8}", "bold")
        took = st.duration(self.now or (st.finished_ts or 0.0))
        t.append(f"{fmt_duration(took) if took is not None else '':>7}  ")
        t.append(self._detail(st) + "\n")

    def _detail(self, st: StageView) -> str:
        d = st.detail
        parts = []
        if d.get("reason"):
            parts.append(str(d["reason"]))
        if d.get("batch_id"):
            parts.append(f"batch {d['batch_id']}")
        if d.get("exit_code") not in (None, 0):
            parts.append(f"exit code {d['exit_code']}")
        if d.get("out"):
            parts.append(self.short(str(d["out"])))
        if d.get("run_dir"):
            parts.append(f"model {self.short(str(d['run_dir']))}")
        if d.get("files"):
            n = len(d["files"])
            parts.append(f"{n} prediction file{'s' if n != 1 else ''}")
        if st.progress and st.status in ("running", "done"):
            parts.append(st.progress)
        if st.status == "running" and st.name in WHERE:
            parts.append(f"live in the {WHERE[st.name]}")
        return " · ".join(parts)

    def _prediction(self, t: Text, p: PredictionView) -> None:
        t.append("\nprediction ", "bold")
        if p.error:
            t.append(f"\n{p.error}\n", "bold red")
            return
        who = f"video {p.video_id}" + (f" ({p.platform_id})" if p.platform_id else "")
        t.append(f"{who}  ", "bold")
        t.append(f"{self.short(p.path)}\n", "dim")
        t.append("predicted growth over each horizon: value (low–high) confidence\n", "dim")
        horizons = sorted({h for per in p.table.values() for h in per}, key=_horizon_days)
        metrics = sorted(p.table, key=lambda m: (METRIC_ORDER.index(m) if m in METRIC_ORDER else 99, m))
        cells = {m: {h: fmt_cell(c) for h, c in p.table[m].items()} for m in metrics}
        metric_w = max([len(m) for m in metrics] + [6]) + 2
        widths = [max([len(h)] + [len(cells[m].get(h, "-")) for m in metrics]) for h in horizons]
        available = (self.content_size.width or self.size.width or 100)
        if metric_w + sum(widths) + 2 * len(widths) <= available:  # a metric x horizon grid
            t.append(f"{'metric':<{metric_w}}" + "  ".join(f"{h:<{w}}" for h, w in zip(horizons, widths, strict=True))
                     .rstrip() + "\n", "underline")
            for m in metrics:
                row = "  ".join(f"{cells[m].get(h, '-'):<{w}}" for h, w in zip(horizons, widths, strict=True))
                t.append(f"{m:<{metric_w}}{row.rstrip()}\n")
            return
        t.append(f"{'metric':<{metric_w}}{'horizon':<9}value (low–high) confidence\n", "underline")  # narrow
        for m in metrics:
            for h in horizons:
                t.append(f"{m:<{metric_w}}{h:<9}{cells[m].get(h, '-')}\n")
