"""The footer names what `p` does now: "Pause" on a running batch, "Resume" on a paused one.

It read "p Pause" on a paused batch although p resumed it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.console_pilot import console_app, settle
from textual.widgets._footer import FooterKey

from console.screens.dashboard import DashboardScreen
from console.synthetic import T0, _ev, make_batch_dir
from engine.events import EventWriter

BATCH = "b-pause"


async def test_p_reads_resume_on_a_paused_batch_and_sends_resume(tmp_path: Path, monkeypatch: Any) -> None:
    from engine import api

    sent: list[str] = []
    monkeypatch.setattr(api, "supervisor_running", lambda ws, batch: True)
    monkeypatch.setattr(api, "command", lambda ws, batch, name, **kw: sent.append(name) or {"ok": True})
    root = make_batch_dir(tmp_path, BATCH, 2)
    w = EventWriter(root / "state.jsonl", fsync_interval_s=3600)
    w.write(_ev("batch_started", T0, batch_id=BATCH, total=2, config_hash="synthetic"))
    app = console_app(tmp_path, BATCH, refresh_hz=2.0, at=5)
    try:
        async with app.run_test(size=(100, 30)) as pilot:

            async def p_label(expected: str) -> str:
                label = ""
                for _ in range(100):
                    keys = [k for k in app.screen.query(FooterKey) if k.key == "p"]
                    label = keys[0].description if keys else ""
                    if label == expected:
                        break
                    await pilot.pause(0.05)
                return label

            assert isinstance(app.dashboard, DashboardScreen)
            assert await p_label("Pause") == "Pause"
            await pilot.press("p")
            w.write(_ev("batch_paused", T0 + 1))
            assert await p_label("Resume") == "Resume"
            await pilot.press("p")
            await settle(pilot, lambda: len(sent) == 2, pause=0.05)
            assert sent == ["pause", "resume"]
    finally:
        w.close()
