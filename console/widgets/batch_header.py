"""The batch header: id, state, counts, throughput, ETA and elapsed time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from console.state import RESUMABLE, BatchSummary, fmt_duration
from engine.hints import vidops_command
from engine.text import plural

STATE_STYLE = {"running": "bold green", "paused": "bold yellow", "stopping": "bold yellow",
               "finished": "bold", "stopped": "bold yellow", "interrupted": "bold red", "error": "bold red"}


class BatchHeader(Static):
    """Two lines of batch figures; ``now`` ticks the elapsed clock of a live batch."""

    summary: reactive[BatchSummary | None] = reactive(None, layout=True)  # the counts line appears
    now: reactive[float] = reactive(0.0)
    alert_count: reactive[int] = reactive(0)

    def __init__(self, workspace: str | Path | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.workspace = workspace  # named in the hint when it is not ./workspace

    def render(self) -> Text:
        s = self.summary
        if s is None:
            return Text(f"no batch attached: press b to choose one "
                        f"(or start one with: {vidops_command('run LIST', self.workspace)})")
        c = s.counts
        now = self.now or time.time()
        line = Text()
        line.append(f"batch {s.batch_id} ", "bold")
        line.append(f"[{s.state}]", STATE_STYLE.get(s.state, ""))
        line.append(f" elapsed {fmt_duration(s.elapsed(now))} ")
        line.append("supervisor live" if s.alive else "no supervisor", "" if s.alive else "dim")
        if not s.alive and s.state in RESUMABLE:
            line.append(" (b, enter: resume)", "bold")  # the batches key is not in the footer
        if self.alert_count:
            line.append(f" ⚠ {self.alert_count}", "bold red")
        line.append("\n")
        line.append(f"{plural(int(c.get('total', 0)), 'video')} ")
        for name, style in (("queued", ""), ("running", "cyan"), ("done", "green"), ("skipped", "dim"),
                            ("failed", "red")):
            line.append(f"{name} {c.get(name, 0)}", style)
            line.append(" ")
        line.append(f"│ {s.per_min:.1f}/min ETA {fmt_duration(s.eta_s)}")
        return line
