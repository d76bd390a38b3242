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
from collections.abc import Callable
from typing import Any, TextIO

from rich.markup import escape

from engine.hints import vidops_command
from engine.state import BatchState, replay
from engine.text import plural


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

    def __init__(self, out: TextIO | None = None, every_s: float = 5.0,
                 workspace: str | os.PathLike[str] | None = None) -> None:
        self.out = out or sys.stdout
        self.every_s = every_s
        self.workspace = workspace  # named in the hints when it is not ./workspace
        self.state = BatchState()
        self._next = 0.0

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def __call__(self, ev: dict[str, Any]) -> None:
        self.state.apply(ev)
        t = str(ev.get("type"))
        lines = _PLAIN_LINES.get(t)
        for line in lines(self, ev) if lines is not None else ():
            self._print(line)
        now = time.monotonic()
        if now >= self._next and t not in _BATCH_END:
            self._next = now + self.every_s
            from engine.progress import throughput

            per_min, eta = throughput(self.state)
            self._print(summary_line(self.state, per_min, eta))

    def close(self) -> None:
        pass


_BATCH_END = ("batch_finished", "batch_stopped")


def _plain_started(r: PlainRenderer, ev: dict[str, Any]) -> list[str]:
    return [f"batch {ev.get('batch_id')}: {plural(int(ev.get('total') or 0), 'video')}, "
            f"{plural(int(ev.get('workers') or 0), 'worker')}"
            + (" (resumed)" if ev.get("resumed") else "")]


def _plain_failed(r: PlainRenderer, ev: dict[str, Any]) -> list[str]:
    if ev.get("final", True):
        return [f"FAILED {ev['key']}: {ev.get('error_class')}: {ev.get('message')}"]
    if ev.get("counted", True) is False:
        # Stopped with the batch (Ctrl-C, 'vidops stop'): not retried in this run; a resume re-queues it.
        return [f"{ev['key']} interrupted; '{vidops_command(f'resume {r.state.batch_id}', r.workspace)}' continues it"]
    return [f"retrying {ev['key']} after {ev.get('error_class')}: {ev.get('message')}"]


def _plain_alert(r: PlainRenderer, ev: dict[str, Any]) -> list[str]:
    return [f"ALERT [{ev.get('severity')}] {ev.get('kind')}: {ev.get('message')}"]


def _plain_end(r: PlainRenderer, ev: dict[str, Any]) -> list[str]:
    return [summary_line(r.state), f"batch {r.state.batch_id} {ev.get('state')}"]


# Event type -> the lines PlainRenderer prints at once (everything else shows in the periodic summary).
_PLAIN_LINES: dict[str, Callable[[PlainRenderer, dict[str, Any]], list[str]]] = {
    "batch_started": _plain_started, "video_failed": _plain_failed, "alert": _plain_alert,
    "batch_finished": _plain_end, "batch_stopped": _plain_end,
}


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
        handler = _RICH_HANDLERS.get(str(ev.get("type")))
        if handler is not None:
            handler(self, ev)
        c = self.state.counts()
        per_min, _ = throughput(self.state)
        self.progress.update(self.overall, completed=c["done"] + c["skipped"] + c["failed"],
                             counts=f"ok {c['done']} skip {c['skipped']} fail {c['failed']} run {c['running']}",
                             rate=f"{per_min:.1f}/min")

    def close(self) -> None:
        self.progress.stop()
        self.console.print(escape(summary_line(self.state)))


# Keys, messages and ids are data, not Rich markup: a "[/x]" in an error message must print as is
# (unescaped, Rich drops "[link]" and raises on "[/x]", in the caller or in the refresh thread).
def _rich_started(r: RichRenderer, ev: dict[str, Any]) -> None:
    r.progress.update(r.overall, description=escape(f"batch {ev.get('batch_id')}"), total=ev.get("total") or 1)


def _rich_video_started(r: RichRenderer, ev: dict[str, Any]) -> None:
    key = ev.get("key")
    if key:
        r.current[key] = r.progress.add_task(escape(f"  {key}"), total=1.0, counts="starting", rate="")


def _rich_video_progress(r: RichRenderer, ev: dict[str, Any]) -> None:
    key = ev.get("key")
    if key in r.current:
        r.progress.update(r.current[key], completed=float(ev.get("fraction", 0)), counts=str(ev.get("stage", "")))


def _rich_video_ended(r: RichRenderer, ev: dict[str, Any]) -> None:
    key = ev.get("key")
    if key in r.current:
        r.progress.remove_task(r.current.pop(key))
    if ev.get("type") == "video_failed" and ev.get("final", True):
        text = f"{key}: {ev.get('error_class')}: {ev.get('message')}"
        r.progress.console.print(f"[red]FAILED[/] {escape(text)}")


def _rich_alert(r: RichRenderer, ev: dict[str, Any]) -> None:
    text = f"{ev.get('kind')}: {ev.get('message')}"
    r.progress.console.print(f"[yellow]ALERT[/] {escape(text)}")


_RICH_HANDLERS: dict[str, Callable[[RichRenderer, dict[str, Any]], None]] = {
    "batch_started": _rich_started, "video_started": _rich_video_started, "video_progress": _rich_video_progress,
    "video_succeeded": _rich_video_ended, "video_failed": _rich_video_ended, "alert": _rich_alert,
}


def make_renderer(json_mode: bool, workspace: str | os.PathLike[str] | None = None) -> Any:
    if json_mode:
        return JsonRenderer()
    if sys.stdout.isatty():
        return RichRenderer()
    return PlainRenderer(workspace=workspace)
