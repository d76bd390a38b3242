"""The System tab on a many-core GPU server at 80x24: RAM, disk and the GPUs stay in view.

Per-core lines came first and the tab did not scroll, so with 32 cores everything after core17
(RAM, disk and every GPU) was cut off at 80x24 and could not be reached.
"""

from __future__ import annotations

from pathlib import Path

from support.console_pilot import (
    console_app,
    screen_text,
    show_tab,
    wait_for_dashboard,
    wait_for_text,
)

from console.synthetic import T0, _ev, make_batch_dir
from engine.events import EventWriter


async def test_gpus_and_ram_visible_with_32_cores_and_every_core_reachable(tmp_path: Path) -> None:
    root = make_batch_dir(tmp_path, "b-sys", 1)
    gpus = [{"index": i, "name": "NVIDIA H100", "util_pct": 50.0, "mem_used_mb": 1000.0, "mem_total_mb": 81559.0,
             "temp_c": 40.0, "power_w": 120.5} for i in range(2)]
    with EventWriter(root / "state.jsonl") as w:
        w.write(_ev("batch_started", T0, batch_id="b-sys", total=1, config_hash="s"))
        w.write(_ev("metrics", T0 + 1, cpu_pct=37.5, cpu_per_core=[float(i) for i in range(32)], ram_used_pct=41.2,
                    ram_used_gb=3.3, ram_total_gb=8.0, disk_free_gb=120.5, workers={}, gpus=gpus))
    app = console_app(tmp_path, "b-sys", refresh_hz=2.0, at=100)
    async with app.run_test(size=(80, 24)) as pilot:
        dash = await wait_for_dashboard(app, pilot)
        await pilot.pause(0.2)  # the tabs finish their own first activation
        show_tab(dash, "tab-system")
        await wait_for_text(app, pilot, "CPU    37.5%", pause=0.05)
        text = screen_text(app)
        for what in ("CPU", "RAM", "GiB free", "GPU0  NVIDIA H100", "GPU1  NVIDIA H100"):
            assert what in text, (what, text)
        scroll = dash.query_one("#system-scroll")
        for _ in range(4):  # tab reaches the tab's content, which scrolls with the keys
            if app.focused is scroll:
                break
            await pilot.press("tab")
        assert app.focused is scroll
        await pilot.press("end")
        await pilot.pause(0.2)
        assert "core31" in screen_text(app)
