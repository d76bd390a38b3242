"""The training panel: live loss curves per target and the final metrics vs the baseline."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static
from textual_plotext import PlotextPlot

from console.jobs_state import TrainView

NOTHING_YET = "No training run in this workspace yet. Press t to train on a dataset."
PER_CHART = 2  # targets drawn at once: their legend fits and their colours differ (n shows the next)


def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def gain(mae: float | None, base: float | None) -> str:
    """The model's MAE improvement over the log-linear baseline."""
    if mae is None or not base:
        return "-"
    return f"{100.0 * (1.0 - mae / base):+.1f}%"


class TrainingPanel(Vertical):
    """Status line, a plotext chart of train/validation loss, a metrics table."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view: TrainView | None = None
        self.chart_page = 0

    @property
    def chart_pages(self) -> int:
        return max(1, -(-len(self.view.curves) // PER_CHART)) if self.view is not None else 1

    def next_chart(self) -> None:
        """Show the next targets' curves (wraps around)."""
        self.chart_page = (self.chart_page + 1) % self.chart_pages
        if self.view is not None:
            self._plot(self.view)

    def compose(self) -> ComposeResult:
        yield Static(NOTHING_YET, id="train-status")
        yield PlotextPlot(id="train-plot")
        yield DataTable(id="train-metrics", cursor_type="row")

    def on_mount(self) -> None:
        table = self.query_one("#train-metrics", DataTable)
        table.add_columns("target", "split", "n", "MAE", "RMSE", "Spearman", "cov80", "baseline MAE", "vs baseline")
        self.query_one("#train-plot").display = False
        table.display = False

    def show(self, view: TrainView | None) -> None:
        self.view = view
        status = self.query_one("#train-status", Static)
        if view is None:
            status.update(NOTHING_YET)
            return
        t = Text(f"training job {view.job_id}  ")
        t.append(f"[{view.state}]", {"finished": "bold green", "failed": "bold red"}.get(view.state, "bold cyan"))
        trained = [name for name in view.targets if name not in view.skipped]
        if trained:
            t.append(f"  targets: {', '.join(trained)}")
        if view.skipped:  # e.g. 14d/21d with no training rows in the split: say why, once per target
            t.append(f"\nnot trained ({len(view.skipped)}): "
                     + "; ".join(f"{name}: {why}" for name, why in view.skipped.items()), "dim")
        if view.run_dir:
            t.append(f"\nrun dir {view.run_dir}")
        if view.error:
            t.append(f"\nerror: {view.error}", "bold red")
        status.update(t)
        self._plot(view)
        self._metrics(view)

    def _plot(self, view: TrainView) -> None:
        widget = self.query_one("#train-plot", PlotextPlot)
        widget.display = bool(view.curves)
        plt = widget.plt
        plt.clear_data()
        targets = list(view.curves)
        page = min(self.chart_page, self.chart_pages - 1)
        shown = targets[page * PER_CHART:(page + 1) * PER_CHART]
        title = "loss per target (train solid, validation dotted)"
        if len(targets) > PER_CHART:
            title += f"  targets {page * PER_CHART + 1}-{page * PER_CHART + len(shown)} of {len(targets)}, n: next"
        plt.title(title)
        for target in shown:
            its, tr, va = view.curves[target]
            plt.plot(its, tr, label=f"{target} train")
            vals = [(i, v) for i, v in zip(its, va, strict=False) if not math.isnan(v)]
            if vals:
                plt.plot([i for i, _ in vals], [v for _, v in vals], label=f"{target} val", marker="dot")
        widget.refresh()

    def _metrics(self, view: TrainView) -> None:
        table = self.query_one("#train-metrics", DataTable)
        table.display = bool(view.metrics)
        table.clear()
        for target, m in view.metrics.items():
            table.add_row(target, str(m.get("split", "")), str(m.get("n", "-")), _f(m.get("mae")), _f(m.get("rmse")),
                          _f(m.get("spearman")), _f(m.get("coverage80"), 2), _f(m.get("baseline_mae")),
                          gain(m.get("mae"), m.get("baseline_mae")))
