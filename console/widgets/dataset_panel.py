"""The dataset panel: the current or last build of the workspace (from its job events)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.jobs_state import DatasetView
from console.state import fmt_duration

NOTHING_YET = "No dataset build has run in this workspace yet. Press d to build one."


class DatasetPanel(Static):
    """Stage, rows, target coverage per horizon, duration and errors."""

    # layout: the panel is height auto; without it, it keeps the height of its first text (one line)
    view: reactive[DatasetView | None] = reactive(None, always_update=True, layout=True)

    def render(self) -> Text:
        v = self.view
        if v is None:
            return Text(NOTHING_YET)
        t = Text()
        style = {"finished": "bold green", "failed": "bold red"}.get(v.state, "bold cyan")
        t.append(f"dataset job {v.job_id}  ")
        t.append(f"[{v.state}]\n", style)
        if v.snapshots:
            t.append(f"snapshots {v.snapshots}\n")
        if v.out:
            t.append(f"output    {v.out}\n")
        if v.state == "running":
            pct = f" ({v.rows_done / v.rows_total:.0%})" if v.rows_total else ""
            t.append(f"stage     {v.stage or 'starting'}: {v.rows_done}/{v.rows_total} rows{pct}\n")
        if v.rows is not None:
            t.append(f"rows      {v.rows}\n")
        if v.duration_s is not None:
            t.append(f"duration  {fmt_duration(v.duration_s)}\n")
        if v.coverage:
            horizons = sorted({h for per in v.coverage.values() for h in per}, key=lambda h: int(h.rstrip("d")))
            t.append("\ntarget coverage (rows with a label)\n", "bold")
            t.append(f"{'metric':<12}" + "".join(f"{h:>9}" for h in horizons) + "\n", "underline")
            for metric, per in v.coverage.items():
                t.append(f"{metric:<12}" + "".join(f"{per.get(h, 0):>9}" for h in horizons) + "\n")
        for warning in v.warnings:
            t.append(f"\nwarning: {warning}\n", "bold yellow")
        if v.error:
            t.append(f"\nerror: {v.error}\n", "bold red")
        return t
