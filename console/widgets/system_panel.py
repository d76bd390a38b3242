"""System: CPU total and per core, RAM, free disk and per-GPU readings, with sparklines.

Readings come from the supervisor's ``metrics`` events (engine.monitor), so the console
samples nothing itself. Without an NVIDIA GPU it says so and shows the rest.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from rich.text import Text
from textual.widgets import Static

BLOCKS = "▁▂▃▄▅▆▇█"
HISTORY = 40
NO_GPU = "no NVIDIA GPU / NVML not found"


def spark(values: list[float] | deque[float], top: float = 100.0, width: int = HISTORY) -> str:
    """A text sparkline of the last ``width`` values scaled to ``top``."""
    out = []
    for v in list(values)[-width:]:
        frac = 0.0 if top <= 0 else max(0.0, min(1.0, v / top))
        out.append(BLOCKS[min(len(BLOCKS) - 1, int(frac * len(BLOCKS)))])
    return "".join(out)


class SystemPanel(Static):
    """Keeps a short history of each reading and renders it as text (readable without colour)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("waiting for the first system sample from the supervisor…", **kwargs)
        self.history: dict[str, deque[float]] = {}
        self.latest: dict[str, Any] = {}
        self.live = True  # False: no supervisor runs the batch, so the readings are its last ones

    def set_live(self, live: bool) -> None:
        if live != self.live:
            self.live = live
            if self.latest:
                self.update(self.render_text())

    def _push(self, name: str, value: float | None) -> deque[float]:
        h = self.history.setdefault(name, deque(maxlen=HISTORY))
        if value is not None:
            h.append(float(value))
        return h

    def add_sample(self, metrics: dict[str, Any]) -> None:
        self.latest = metrics
        self._push("cpu", metrics.get("cpu_pct"))
        for i, c in enumerate(metrics.get("cpu_per_core") or []):
            self._push(f"core{i}", c)
        self._push("ram", metrics.get("ram_used_pct"))
        for g in metrics.get("gpus") or []:
            i = g.get("index", 0)
            self._push(f"gpu{i}.util", g.get("util_pct"))
            used, total = g.get("mem_used_mb"), g.get("mem_total_mb")
            self._push(f"gpu{i}.mem", 100.0 * used / total if used is not None and total else None)
            self._push(f"gpu{i}.temp", g.get("temp_c"))
            self._push(f"gpu{i}.power", g.get("power_w"))
        self.update(self.render_text())

    def render_text(self) -> Text:
        """CPU total, RAM, disk and the GPUs first; the per-core lines last (a server has dozens)."""
        m = self.latest
        t = Text()
        if not self.live:  # a finished batch's 99 % CPU read as the machine's state now
            ts = m.get("ts")
            when = time.strftime(" at %Y-%m-%d %H:%M:%S UTC", time.gmtime(ts)) if isinstance(ts, (int, float)) else ""
            t.append(f"batch not running: last reading{when}\n", "yellow")
        t.append(f"CPU   {m.get('cpu_pct', 0):5.1f}%  ", "bold")
        t.append(spark(self.history.get("cpu", [])) + "\n", "cyan")
        ram = m.get("ram_used_pct")
        t.append(f"RAM   {ram if ram is not None else 0:5.1f}%  ", "bold")
        t.append(spark(self.history.get("ram", [])), "magenta")
        if m.get("ram_used_gb") is not None:
            t.append(f"  {m.get('ram_used_gb')} / {m.get('ram_total_gb')} GiB")
        disk = m.get("disk_free_gb")
        t.append(f"\nDisk  {disk if disk is not None else '?'} GiB free in the workspace\n", "bold")
        gpus = m.get("gpus") or []
        if not gpus:
            t.append(f"GPU   {m.get('gpu_note') or NO_GPU}\n", "yellow")
        for g in gpus:
            i = g.get("index", 0)
            t.append(f"GPU{i}  {g.get('name') or ''}\n", "bold")
            for label, name, value, unit, top in (
                ("util", "util", g.get("util_pct"), "%", 100.0),
                ("mem ", "mem", g.get("mem_used_mb"), f"/{g.get('mem_total_mb')} MB", 100.0),
                ("temp", "temp", g.get("temp_c"), "°C", 100.0),
                ("power", "power", g.get("power_w"), " W", max(self.history.get(f"gpu{i}.power", [1.0]) or [1.0])),
            ):
                t.append(f"  {label:<5} {'-' if value is None else value}{unit}  ")
                t.append(spark(self.history.get(f"gpu{i}.{name}", []), top=top, width=20) + "\n", "green")
        for i, c in enumerate(m.get("cpu_per_core") or []):
            t.append(f"core{i:<2}{c:5.1f}%  ")
            t.append(spark(self.history.get(f"core{i}", []), width=20) + "\n", "cyan")
        return t
