"""Failed videos: error class, message, attempts; retry one (r) or all (R); enter for detail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from console.state import short_id
from console.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    from console.screens.dashboard import DashboardScreen

COLUMNS = (("video", "video"), ("class", "error class"), ("kind", "kind"), ("attempts", "try"),
           ("message", "message"))


class FailedScreen(Screen[None]):
    """A live list of the batch's failed videos (synced from the dashboard's rows by key)."""

    BINDINGS = [
        Binding("r", "retry", "Retry", id="failed.retry", tooltip="Retry the selected video"),
        Binding("R", "retry_all", "Retry all", id="failed.retry_all", tooltip="Retry all failed videos (confirm)"),
        # priority: the table's own (hidden) enter binding shadowed this one, so the footer never showed it
        Binding("enter", "detail", "Detail", id="failed.detail", tooltip="Manifest, log tail and traceback",
                priority=True, key_display="enter"),
        Binding("escape", "back", "Back", id="failed.back", tooltip="Back to the dashboard"),
    ]

    def __init__(self, dashboard: DashboardScreen) -> None:
        super().__init__()
        self.dashboard = dashboard
        self._shown: dict[str, tuple[Text, ...]] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="failed-title", markup=False)
        yield DataTable(id="failed-table", cursor_type="row")
        yield KeysFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self.sync()
        self.set_interval(self.dashboard.poll_interval, self.sync)
        table.focus()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#failed-table", DataTable)

    def sync(self) -> None:
        videos = self.dashboard.videos
        wanted = {}
        for key in sorted(videos.failed_keys):
            r = videos.rows_by_key[key]
            kind = "transient" if r.transient else "permanent"
            wanted[key] = tuple(Text(c) for c in (short_id(r.video_id), r.error_class or "", kind, str(r.attempts),
                                                   (r.error_message or "")[:200]))  # Text: never markup
        table = self.table
        with self.app.batch_update():
            for key in [k for k in self._shown if k not in wanted]:
                table.remove_row(key)
                del self._shown[key]
            for key, new in wanted.items():
                old = self._shown.get(key)
                if old is None:
                    table.add_row(*new, key=key)
                elif old != new:
                    for (col, _), a, b in zip(COLUMNS, old, new, strict=True):
                        if a != b:
                            table.update_cell(key, col, b, update_width=True)
                self._shown[key] = new
        self.query_one("#failed-title", Static).update(
            f"Failed videos of batch {self.dashboard.batch_id}: {len(wanted)}"
            + ("  (r retry selected, R retry all, enter detail, esc back)" if wanted else ""))
        self.refresh_bindings()

    @property
    def selected_key(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("retry", "detail"):
            return True if self._shown else None
        if action == "retry_all":
            return True if self._shown else None
        return True

    def action_retry(self) -> None:
        key = self.selected_key
        if key:
            self.dashboard.retry_keys([key])

    def action_retry_all(self) -> None:
        self.dashboard.action_retry_all()

    def action_detail(self) -> None:
        key = self.selected_key
        if key:
            self.dashboard.open_detail(key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_detail()

    def action_back(self) -> None:
        self.dismiss(None)
