"""The videos table: updated by row key, windowed over very large batches.

Rows live in :attr:`VideosTable.rows` (all of them, frozen values); the DataTable mounts only
one page of the filtered list (``page_size`` rows). Each refresh adds, updates and removes
rows by key inside ``app.batch_update()``, never clearing, so the cursor stays and nothing
flickers.
"""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import DataTable

from console.state import FILTERS, STATUS_LABELS, VideoRow, fmt_duration, short_id

STATUS_STYLE = {"queued": "dim", "running": "cyan", "retry_wait": "yellow", "done": "green",
                "skipped": "dim", "failed": "bold red"}
COLUMNS = (("status", "status"), ("video", "video"), ("stage", "stage"), ("progress", "progress"),
           ("attempts", "try"), ("elapsed", "elapsed"), ("error", "last error"))


def progress_bar(fraction: float, width: int = 8) -> str:
    filled = max(0, min(width, round(fraction * width)))
    return "█" * filled + "░" * (width - filled) + f" {fraction:4.0%}"


def cells(row: VideoRow, now: float) -> tuple[Text, ...]:
    """Text cells: a str cell would be parsed as Rich markup (``[/x]`` in an error would crash)."""
    symbol, word = STATUS_LABELS.get(row.status, ("?", row.status))
    err = f"{row.error_class}: {row.error_message}" if row.error_class else ""
    return (Text(f"{symbol} {word}", STATUS_STYLE.get(row.status, "")), Text(short_id(row.video_id)), Text(row.stage or ""),
            Text(progress_bar(row.fraction)), Text(str(row.attempts)), Text(fmt_duration(row.elapsed(now))),
            Text(err[:70] + ("…" if len(err) > 70 else "")))


class VideosTable(DataTable[Text]):
    """All videos of the batch, filtered, searched and paged."""

    filter_name: reactive[str] = reactive("all", init=False)
    search: reactive[str] = reactive("", init=False)
    page: reactive[int] = reactive(0, init=False)

    def __init__(self, page_size: int = 500, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.page_size = page_size
        self.rows_by_key: dict[str, VideoRow] = {}
        self.order: list[str] = []
        self.failed_keys: set[str] = set()
        self._filtered: list[str] = []
        self._stale = True
        self._shown: dict[str, tuple[Text, ...]] = {}
        self._dirty: set[str] = set()  # rows changed since the last refresh
        self._window_stale = True  # filter, search, page or membership changed

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    # -- data -------------------------------------------------------------------------------
    def apply_rows(self, rows: dict[str, VideoRow], order: tuple[str, ...]) -> None:
        self.order.extend(order)
        for key, row in rows.items():
            old = self.rows_by_key.get(key)
            self.rows_by_key[key] = row
            self._dirty.add(key)
            if row.status == "failed":
                self.failed_keys.add(key)
            else:
                self.failed_keys.discard(key)
            if old is None or old.status != row.status:
                self._stale = self._window_stale = True
        if order:
            self._window_stale = True

    def watch_filter_name(self) -> None:
        self._stale = self._window_stale = True
        self.page = 0
        self.refresh_rows()

    def watch_search(self) -> None:
        self._stale = self._window_stale = True
        self.page = 0
        self.refresh_rows()

    def watch_page(self) -> None:
        self._window_stale = True
        self.refresh_rows()

    def cycle_filter(self) -> None:
        self.filter_name = FILTERS[(FILTERS.index(self.filter_name) + 1) % len(FILTERS)]

    @property
    def filtered(self) -> list[str]:
        if self._stale:
            if self.filter_name == "all" and not self.search:
                self._filtered = self.order
            else:
                needle = self.search.lower()
                rows = self.rows_by_key
                self._filtered = [k for k in self.order if rows[k].matches(self.filter_name, needle)]
            self._stale = False
        return self._filtered

    @property
    def pages(self) -> int:
        return max(1, -(-len(self.filtered) // self.page_size))

    def window(self) -> list[str]:
        start = min(self.page, self.pages - 1) * self.page_size
        return self.filtered[start:start + self.page_size]

    @property
    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except Exception:  # noqa: BLE001 - no valid cursor (an empty or shrinking table)
            return None

    # -- display ----------------------------------------------------------------------------
    def refresh_rows(self, now: float = 0.0) -> None:
        """Bring the mounted rows in line with the window: add, update, remove by key.

        Only rows that changed (or run, for their elapsed time) are re-rendered; an idle batch
        costs nothing. When most of the window is replaced (a new page or filter, an operator
        action) the table is refilled at once, which is far cheaper than row-by-row removal.
        """
        if not self.is_mounted:
            return
        if not self._window_stale:
            todo = [k for k in self._shown if k in self._dirty or self.rows_by_key[k].status == "running"]
            self._dirty.clear()
            if todo:
                with self.app.batch_update():
                    for key in todo:
                        self._update(key, cells(self.rows_by_key[key], now))
            return
        window = self.window()
        wanted = set(window)
        self._dirty.clear()
        self._window_stale = False
        gone = [k for k in self._shown if k not in wanted]
        with self.app.batch_update():
            if len(gone) > len(self._shown) // 2:
                cursor_key = self.selected_key
                self.clear()
                self._shown.clear()
                for key in window:
                    self._shown[key] = new = cells(self.rows_by_key[key], now)
                    self.add_row(*new, key=key)
                if cursor_key in wanted:
                    self.move_cursor(row=self.get_row_index(cursor_key))
                return
            for key in gone:
                self.remove_row(key)
                del self._shown[key]
            for key in window:
                new = cells(self.rows_by_key[key], now)
                if key not in self._shown:
                    self.add_row(*new, key=key)
                    self._shown[key] = new
                else:
                    self._update(key, new)

    def _update(self, key: str, new: tuple[Text, ...]) -> None:
        old = self._shown[key]
        if old != new:
            for (col, _), a, b in zip(COLUMNS, old, new, strict=True):
                if a != b:  # update_width: a column filled while all rows were queued grows to fit
                    self.update_cell(key, col, b, update_width=True)
            self._shown[key] = new

    def page_label(self) -> str:
        n = len(self.filtered)
        start = min(self.page, self.pages - 1) * self.page_size
        span = f"{start + 1}-{min(start + self.page_size, n)} of {n}" if n else "none"
        more = f"  page {self.page + 1}/{self.pages} ([ and ] to page)" if self.pages > 1 else ""
        search = f"  search '{self.search}'" if self.search else ""
        return f"filter: {self.filter_name} (f){search}  rows {span}{more}"
