"""Batches of the workspace: enter resumes a stopped batch or attaches to a running one."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from console.messages import BatchesListed
from console.state import RESUMABLE
from console.widgets.keys_footer import KeysFooter
from engine.hints import vidops_command


def action_for(batch: dict[str, Any]) -> str:
    """What enter does for this batch: attach | resume | view."""
    if batch.get("alive"):
        return "attach"
    return "resume" if batch.get("state") in RESUMABLE else "view"


class ResumeScreen(Screen[None]):
    BINDINGS = [
        # priority: the table's own (hidden) enter binding shadowed this one, so the footer never showed it
        Binding("enter", "open", "Resume/attach", id="resume.open", priority=True, key_display="enter",
                tooltip="Resume a stopped batch (detached) or attach to a running one"),
        Binding("g", "reload", "Reload", id="resume.reload", tooltip="Read the batch list again"),
        Binding("escape", "back", "Back", id="resume.back", tooltip="Back to the dashboard"),
    ]

    def __init__(self, workspace: str, current: str | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.current = current  # the attached batch: the cursor starts on it, so enter acts on it
        self.batches: dict[str, dict[str, Any]] = {}

    def compose(self) -> ComposeResult:
        yield Static(f"Batches in {self.workspace}", id="resume-title", markup=False)
        yield DataTable(id="resume-table", cursor_type="row")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key in ("batch", "state", "total", "done", "skipped", "failed", "queued", "updated", "enter"):
            table.add_column(key, key=key)
        table.focus()
        self.action_reload()

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, group="batches")
    def load(self) -> None:
        from engine import api

        self.post_message(BatchesListed(api.list_batch_summaries(self.workspace)))

    def on_batches_listed(self, message: BatchesListed) -> None:
        table = self.query_one(DataTable)
        self.batches = {b["batch_id"]: b for b in message.batches}
        keep = self.current  # the attached batch at first, then what the operator selected (g reloads)
        if table.row_count:
            keep = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        with self.app.batch_update():
            table.clear()
            for b in sorted(message.batches, key=lambda b: b.get("updated_at") or 0, reverse=True):
                c = b.get("counts") or {}
                upd = b.get("updated_at")
                when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(upd)) if upd else "-"
                cells = (b["batch_id"], b["state"], *(str(c.get(k, "-")) for k in ("total", "done", "skipped", "failed", "queued")),
                         when, action_for(b))
                table.add_row(*(Text(str(x)) for x in cells), key=b["batch_id"])
            if keep in self.batches:
                table.move_cursor(row=table.get_row_index(keep))
        title = f"Batches in {self.workspace}: {len(self.batches)}"
        if not self.batches:
            title += f"  (none yet: start one with '{vidops_command('run LIST', self.workspace)}')"
        self.query_one("#resume-title", Static).update(title)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open":
            return True if self.batches else None
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        batch_id = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        self.open_batch(batch_id)

    def open_batch(self, batch_id: str) -> None:
        b = self.batches.get(batch_id, {})
        if action_for(b) == "resume":
            self.resume(batch_id)
        else:
            self.app.attach(batch_id)  # type: ignore[attr-defined]

    @work(thread=True, exclusive=True, exit_on_error=False, group="resume")
    def resume(self, batch_id: str) -> None:
        from engine import api

        try:
            api.resume_batch(self.workspace, batch_id, detach=True)
        except Exception as exc:  # noqa: BLE001 - reported, the list stays
            self.app.call_from_thread(self.notify, f"cannot resume {batch_id}: {exc}", severity="error", markup=False)
            return
        self.app.call_from_thread(self.app.attach, batch_id)  # type: ignore[attr-defined]

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.dismiss(None)
