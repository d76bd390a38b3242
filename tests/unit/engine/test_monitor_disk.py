"""Free-disk sampling watches the workspace and the result store, and names the fuller one."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

import pytest

from engine import monitor
from engine.alerts import AlertRules
from engine.config import load_settings

Usage = namedtuple("Usage", "total used free percent")


def test_low_disk_alert_names_the_result_store_when_it_is_the_full_one(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    ws, store = tmp_path / "ws", tmp_path / "data" / "result_store"  # the store is not created yet
    ws.mkdir()
    (tmp_path / "data").mkdir()
    free = {str(ws): 500 * 2**30, str(tmp_path / "data"): 1 * 2**30}
    monkeypatch.setattr(monitor.psutil, "disk_usage", lambda p: Usage(0, 0, free[p], 0))
    metrics = monitor.Monitor(str(ws), str(store)).sample({})
    assert metrics["disk_free_gb"] == 1.0 and metrics["disk_path"] == str(store)
    (alert,) = AlertRules(load_settings(None).alerts).on_metrics(metrics)
    assert alert.kind == "low_disk" and str(store) in alert.message
