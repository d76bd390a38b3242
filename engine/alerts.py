"""Alert rules over the supervisor's stream of outcomes and samples.

Each rule fires once when its condition starts to hold and re-arms when it clears, so an
operator sees one alert per episode rather than one per tick.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from engine.config import AlertsSettings
from engine.text import plural


@dataclass
class Alert:
    kind: str
    severity: str  # info | warning | error
    message: str

    def fields(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "message": self.message}


@dataclass
class AlertRules:
    cfg: AlertsSettings
    _outcomes: deque[bool] = field(default_factory=deque)  # True = failed
    _losses: deque[float] = field(default_factory=deque)
    _active: set[str] = field(default_factory=set)

    def _edge(self, kind: str, condition: bool, alert: Alert | None) -> list[Alert]:
        if condition and kind not in self._active:
            self._active.add(kind)
            return [alert] if alert else []
        if not condition:
            self._active.discard(kind)
        return []

    def on_finished(self, failed: bool) -> list[Alert]:
        self._outcomes.append(failed)
        while len(self._outcomes) > self.cfg.window:
            self._outcomes.popleft()
        n = len(self._outcomes)
        rate = sum(self._outcomes) / n if n else 0.0
        firing = n >= self.cfg.min_error_samples and rate > self.cfg.error_rate
        msg = (f"error rate {rate:.0%} over the last {plural(n, 'finished video')} "
               f"(threshold {self.cfg.error_rate:.0%})")
        return self._edge("error_rate", firing, Alert("error_rate", "error", msg))

    def on_worker_lost(self, now: float | None = None) -> list[Alert]:
        now = time.monotonic() if now is None else now
        self._losses.append(now)
        while self._losses and now - self._losses[0] > self.cfg.crash_loop_window_s:
            self._losses.popleft()
        firing = len(self._losses) >= self.cfg.crash_loop_count
        msg = (f"worker crash loop: {plural(len(self._losses), 'worker')} lost within "
               f"{self.cfg.crash_loop_window_s:.0f} s")
        return self._edge("crash_loop", firing, Alert("crash_loop", "error", msg))

    def on_metrics(self, metrics: dict[str, Any]) -> list[Alert]:
        free = metrics.get("disk_free_gb")
        low = free is not None and free < self.cfg.min_free_disk_gb
        where = metrics.get("disk_path") or "the workspace"
        msg = f"low disk space: {free} GiB free in {where} (threshold {self.cfg.min_free_disk_gb} GiB)"
        return self._edge("low_disk", low, Alert("low_disk", "warning", msg))

    @staticmethod
    def gpu_oom(key: str, scale: float) -> Alert:
        return Alert("gpu_oom", "warning", f"CUDA out of memory on {key}; retrying with batch size x{scale:g}")

    @staticmethod
    def stalled(key: str, worker_id: int, seconds: float) -> Alert:
        return Alert("stalled", "warning", f"worker {worker_id} stalled on {key}: no progress for {seconds:.0f} s; killed")
