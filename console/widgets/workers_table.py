"""Workers: pid, current video, CPU % and RSS, updated by row key."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from console.state import WorkerRow, short_id

COLUMNS = (("worker", "worker"), ("pid", "pid"), ("video", "current video"), ("cpu", "CPU %"),
           ("rss", "RSS MB"), ("state", "state"))


def _cells(w: WorkerRow) -> tuple[Text, ...]:
    """Text cells (a str cell would be parsed as Rich markup)."""
    return tuple(Text(c) for c in (
        str(w.worker), str(w.pid or "-"), short_id(w.video) if w.video else ("idle" if w.alive else "-"),
        "-" if w.cpu_pct is None else f"{w.cpu_pct:.0f}", "-" if w.rss_mb is None else f"{w.rss_mb:.0f}",
        "alive" if w.alive else "exited"))


class WorkersTable(DataTable[Text]):
    """One row per worker the supervisor started."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self._shown: dict[str, tuple[Text, ...]] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def show(self, workers: tuple[WorkerRow, ...]) -> None:
        wanted = {str(w.worker): _cells(w) for w in workers}
        with self.app.batch_update():
            for key in [k for k in self._shown if k not in wanted]:
                self.remove_row(key)
                del self._shown[key]
            for key, new in wanted.items():
                old = self._shown.get(key)
                if old is None:
                    self.add_row(*new, key=key)
                elif old != new:
                    for (col, _), a, b in zip(COLUMNS, old, new, strict=True):
                        if a != b:  # a worker's first video is longer than "idle"
                            self.update_cell(key, col, b, update_width=True)
                self._shown[key] = new
