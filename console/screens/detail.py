"""Video detail: component status from the manifest, the log tail and the traceback."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from console.messages import VideoDetailLoaded
from console.state import VideoRow
from console.widgets.keys_footer import KeysFooter


class VideoDetailScreen(Screen[None]):
    """Loads ``engine.api.video_detail`` in a thread worker, then shows it."""

    BINDINGS = [Binding("escape", "back", "Back", id="detail.back", tooltip="Back"),
                Binding("r", "retry", "Retry", id="detail.retry", tooltip="Retry this video")]

    def __init__(self, workspace: str, batch_id: str, row: VideoRow, retry: Any) -> None:
        super().__init__()
        self.workspace, self.batch_id, self.row = workspace, batch_id, row
        self._retry = retry

    def _head(self) -> Text:
        r = self.row
        head = Text(f"{r.key}  ", "bold")
        head.append(f"[{r.status}]  attempts {r.attempts}  run {r.run_id or '-'}\n")
        if r.error_class:  # after a retry it is the last attempt's error, not the video's state
            head.append(("" if r.status == "failed" else "last error: ") + f"{r.error_class}: {r.error_message}\n",
                        "red" if r.status == "failed" else "dim")
        return head

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-scroll"):
            yield Static(self._head(), id="detail-head")
            yield Static("loading…", id="detail-components")
            yield Static("", id="detail-traceback")
            yield Static("", id="detail-log")
        yield KeysFooter()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def load(self) -> None:
        from engine import api

        r = self.row
        try:
            detail = api.video_detail(self.workspace, self.batch_id, r.key, platform_id=r.platform_id,
                                      video_id=r.video_id, run_id=r.run_id)
        except Exception as exc:  # noqa: BLE001 - shown on the screen
            detail = {"error": f"{type(exc).__name__}: {exc}", "components": {}, "log_tail": [], "traceback": None}
        self.post_message(VideoDetailLoaded({**detail, "for_run_id": r.run_id}))

    def on_video_detail_loaded(self, message: VideoDetailLoaded) -> None:
        d = message.detail
        if d.get("for_run_id") != self.row.run_id:
            return  # read for the run before a retry; the load for the current one follows
        comp = Text("Components (manifest)\n", "bold underline")
        if d.get("error"):
            comp.append(d["error"] + "\n", "red")
        if not d.get("components"):
            comp.append("  no manifest components recorded\n", "dim")
        for name, entry in sorted((d.get("components") or {}).items()):
            status = entry.get("status", "?") if isinstance(entry, dict) else str(entry)
            reason = entry.get("reason") if isinstance(entry, dict) else None
            comp.append(f"  {name:<24}{status}{'  (' + str(reason) + ')' if reason else ''}\n")
        if d.get("manifest_path"):
            comp.append(f"  {d['manifest_path']}\n", "dim")
        self.query_one("#detail-components", Static).update(comp)
        tb = d.get("traceback")
        self.query_one("#detail-traceback", Static).update(
            Text("Traceback\n", "bold underline") + Text(tb + "\n", "red") if tb else Text(""))
        log = Text(f"Log tail ({d.get('log_path', '')})\n", "bold underline")
        log.append("\n".join(d.get("log_tail") or ["(empty)"]))
        self.query_one("#detail-log", Static).update(log)

    def follow(self, row: VideoRow) -> None:
        """The dashboard's newer copy of this video's row (e.g. after ``r``): the head follows it,
        and the manifest, log and traceback are read again when the video ends or a new run starts."""
        old, self.row = self.row, row
        self.query_one("#detail-head", Static).update(self._head())
        if (row.status != old.status and row.status in ("done", "failed", "skipped")) or row.run_id != old.run_id:
            self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_retry(self) -> None:
        self._retry([self.row.key])
