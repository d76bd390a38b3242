"""The System tab says when its readings are a stopped batch's last ones, not the machine now."""

from __future__ import annotations

from console.widgets.system_panel import SystemPanel


def test_readings_of_a_batch_without_supervisor_are_marked_as_its_last() -> None:
    panel = SystemPanel()
    panel.latest = {"ts": 1790000000.0, "cpu_pct": 99.0, "ram_used_pct": 50.0, "gpus": []}
    assert "not running" not in panel.render_text().plain  # a live batch: current readings
    panel.live = False
    text = panel.render_text().plain
    assert text.startswith("batch not running: last reading at 2026-09-21 ") and "CPU    99.0%" in text
