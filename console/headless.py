"""Headless display of a batch for ``--no-ui``: rich progress on a terminal, plain periodic
lines when stdout is not a TTY, one JSON object per event with ``--json``.

Every renderer is an event listener: it folds events into its own BatchState, so the same
renderer serves an in-process run and ``vidops attach`` following the log of a daemon.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, TextIO

from engine.state import BatchState, replay


def _fmt_eta(eta: float | None) -> str:
    if eta is None:
        return "--"
    m, s = divmod(int(eta), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def summary_line(state: BatchState, per_min: float | None = None, eta: float | None = None) -> str:
    c = state.counts()
    finished = c["done"] + c["skipped"] + c["failed"]
    line = (f"[{state.batch_id}] {finished}/{c['total']} finished: {c['done']} done, {c['skipped']} skipped, "
            f"{c['failed']} failed; {c['running']} running, {c['queued']} queued")
    if per_min is not None:
        line += f"; {per_min:.1f} videos/min, ETA {_fmt_eta(eta)}"
    return line


def seed_from_log(renderer: Any, log_path: str | os.PathLike[str]) -> None:
    """Fold a batch's existing event log into a renderer's state before its supervisor starts.

    A resumed or retried batch emits events only for the videos it runs now; without the
    earlier ones the counts and the final summary would cover this run alone ("1/12 finished").
    The JSON renderer keeps no state: it streams this run's events as they come.
    """
    state = getattr(renderer, "state", None)
    if not isinstance(state, BatchState):
        return
    replay(log_path, state)
    for v in state.videos.values():
        if v.status == "running":  # in flight when the last supervisor died: this run re-queues it
            v.status = "queued"


class JsonRenderer:
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def __call__(self, ev: dict[str, Any]) -> None:
        self.out.write(json.dumps(ev, separators=(",", ":"), default=str) + "\n")
        self.out.flush()

    def close(self) -> None:
        pass


class PlainRenderer:
    """Line-oriented output for logs and pipes: failures and alerts at once, a summary every N s."""

    def __init__(self, out: TextIO | None = None, every_s: float = 5.0) -> None:
        self.out = out or sys.stdout
        self.every_s = every_s
        self.state = BatchState()
        self._next = 0.0

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def __call__(self, ev: dict[str, Any]) -> None:
        self.state.apply(ev)
        t = ev.get("type")
        if t == "batch_started":
            self._print(f"batch {ev.get('batch_id')}: {ev.get('total')} videos, {ev.get('workers')} workers"
                        + (" (resumed)" if ev.get("resumed") else ""))
        elif t == "video_failed" and ev.get("final", True):
            self._print(f"FAILED {ev['key']}: {ev.get('error_class')}: {ev.get('message')}")
        elif t == "video_failed" and ev.get("counted", True) is False:
            # Stopped with the batch (Ctrl-C, 'vidops stop'): not retried in this run; a resume re-queues it.
            self._print(f"{ev['key']} interrupted; 'vidops resume {self.state.batch_id}' continues it")
        elif t == "video_failed":
            self._print(f"retrying {ev['key']} after {ev.get('error_class')}: {ev.get('message')}")
        elif t == "alert":
            self._print(f"ALERT [{ev.get('severity')}] {ev.get('kind')}: {ev.get('message')}")
        elif t in ("batch_finished", "batch_stopped"):
            self._print(summary_line(self.state))
            self._print(f"batch {self.state.batch_id} {ev.get('state')}")
        now = time.monotonic()
        if now >= self._next and t not in ("batch_finished", "batch_stopped"):
            self._next = now + self.every_s
            from engine.progress import throughput

            per_min, eta = throughput(self.state)
            self._print(summary_line(self.state, per_min, eta))

    def close(self) -> None:
        pass


class RichRenderer:
    """An overall progress bar with counts, throughput and ETA, plus the videos in flight."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=False)
        self.state = BatchState()
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[counts]}"),
            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(), console=self.console,
            refresh_per_second=4, transient=False,
        )
        self.overall = self.progress.add_task("batch", total=1, counts="", rate="")
        self.current: dict[str, Any] = {}
        self.progress.start()

    def __call__(self, ev: dict[str, Any]) -> None:
        from engine.progress import throughput

        self.state.apply(ev)
        t = ev.get("type")
        key = ev.get("key")
        if t == "batch_started":
            self.progress.update(self.overall, description=f"batch {ev.get('batch_id')}", total=ev.get("total") or 1)
        elif t == "video_started" and key:
            self.current[key] = self.progress.add_task(f"  {key}", total=1.0, counts="starting", rate="")
        elif t == "video_progress" and key in self.current:
            self.progress.update(self.current[key], completed=float(ev.get("fraction", 0)), counts=ev.get("stage", ""))
        elif t in ("video_succeeded", "video_failed") and key in self.current:
            self.progress.remove_task(self.current.pop(key))
        if t == "video_failed" and ev.get("final", True):
            self.progress.console.print(f"[red]FAILED[/] {key}: {ev.get('error_class')}: {ev.get('message')}")
        elif t == "alert":
            self.progress.console.print(f"[yellow]ALERT[/] {ev.get('kind')}: {ev.get('message')}")
        c = self.state.counts()
        per_min, _ = throughput(self.state)
        self.progress.update(self.overall, completed=c["done"] + c["skipped"] + c["failed"],
                             counts=f"ok {c['done']} skip {c['skipped']} fail {c['failed']} run {c['running']}",
                             rate=f"{per_min:.1f}/min")

    def close(self) -> None:
        self.progress.stop()
        self.console.print(summary_line(self.state))


def make_renderer(json_mode: bool) -> Any:
    if json_mode:
        return JsonRenderer()
    if sys.stdout.isatty():
        return RichRenderer()
    return PlainRenderer()
