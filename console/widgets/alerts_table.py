"""Alerts: newest first within severity, with an acknowledged mark."""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from console.state import sort_alerts

SEVERITY = {"error": ("✘ error", "bold red"), "warning": ("! warning", "yellow"), "info": ("i info", "")}


class AlertsTable(DataTable[Text]):
    """All alerts seen since attaching (the batch log keeps the newest 200 in its state)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self.alerts: list[dict[str, Any]] = []
        self.acknowledged = 0  # alerts[:acknowledged] were seen by the operator

    @property
    def unacknowledged(self) -> int:
        return len(self.alerts) - self.acknowledged

    def on_mount(self) -> None:
        for key, label in (("severity", "severity"), ("time", "time (UTC)"), ("kind", "kind"),
                           ("message", "message"), ("ack", "ack")):
            self.add_column(label, key=key)

    def add_alerts(self, alerts: tuple[dict[str, Any], ...]) -> None:
        if alerts:
            self.alerts.extend(alerts)
            self._rebuild()

    def acknowledge(self) -> None:
        self.acknowledged = len(self.alerts)
        self._rebuild()

    def _rebuild(self) -> None:
        # A small table that re-sorts as alerts arrive: rebuilt (rarely), not updated per tick.
        acked = {id(a) for a in self.alerts[: self.acknowledged]}
        with self.app.batch_update():
            self.clear()
            for i, a in enumerate(sort_alerts(self.alerts)):
                label, style = SEVERITY.get(str(a.get("severity")), (str(a.get("severity")), ""))
                ts = a.get("ts")
                when = time.strftime("%H:%M:%S", time.gmtime(float(ts))) if ts else "-"
                self.add_row(Text(label, style), Text(when), Text(str(a.get("kind") or "")),
                             Text(str(a.get("message") or "")), Text("✓" if id(a) in acked else "new"), key=str(i))
