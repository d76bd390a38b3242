"""A very long video id (up to 128 characters, from a long file name) does not push the rest of
the row off screen: the videos and failed tables show its start and end, the detail the full key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.console_pilot import console_app, screen_text, settle, show_tab, wait_for_dashboard

from console.screens.failed import FailedScreen
from console.synthetic import T0, _ev, make_batch_dir
from engine.events import EventWriter

BATCH = "b-long"
LONG = "a_very_long_video_file_name_" * 4 + "episode_0042"


async def test_long_video_id_is_shortened_in_tables(tmp_path: Path) -> None:
    root = make_batch_dir(tmp_path, BATCH, 1)
    key = f"local__{LONG}"
    with EventWriter(root / "state.jsonl") as w:
        w.write(_ev("batch_started", T0, batch_id=BATCH, total=2, config_hash="synthetic"))
        w.write(_ev("video_queued", T0, key=key, platform_id="local", video_id=LONG))
        w.write(_ev("video_started", T0 + 1, key=key, worker=0, pid=1, run_id="r0", attempt=1))
        w.write(_ev("video_failed", T0 + 2, key=key, error_class="not_video", transient=False,
                    message="cannot decode: no video stream", attempt=1, final=True))
        w.write(_ev("batch_finished", T0 + 3, state="finished"))
    app = console_app(tmp_path, BATCH, refresh_hz=1.0, at=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_dashboard(app, pilot)
        await pilot.pause(0.2)
        row = next(line for line in screen_text(app).splitlines() if "✘ failed" in line)
        assert "episode_0042" in row and "…" in row  # start … end of the id
        assert "░░░░░░░░   0%" in row and "1.0s" in row, row  # progress and elapsed still on screen
        await pilot.press("F")
        await pilot.pause(0.3)
        assert isinstance(app.screen, FailedScreen)
        row = next(line for line in screen_text(app).splitlines() if "episode_0042" in line)
        assert "not_video" in row and "permanent" in row, row
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert key in "".join(screen_text(app).split())  # the detail names the full key (wrapped)


async def test_long_current_video_keeps_the_workers_columns_on_screen(tmp_path: Path, monkeypatch: Any) -> None:
    from engine import api

    monkeypatch.setattr(api, "supervisor_running", lambda ws, batch: True)  # a live batch: workers busy
    root = make_batch_dir(tmp_path, BATCH, 1)
    key = f"local__{LONG}"
    with EventWriter(root / "state.jsonl") as w:
        w.write(_ev("batch_started", T0, batch_id=BATCH, total=1, config_hash="synthetic"))
        w.write(_ev("video_queued", T0, key=key, platform_id="local", video_id=LONG))
        w.write(_ev("worker_started", T0, worker=0, pid=4000))
        w.write(_ev("video_started", T0 + 1, key=key, worker=0, pid=4000, run_id="r0", attempt=1))
        w.write(_ev("metrics", T0 + 2, cpu_pct=50.0, workers={"0": {"pid": 4000, "rss_mb": 180.0, "cpu_pct": 95.0}},
                    gpus=[]))
    app = console_app(tmp_path, BATCH, refresh_hz=1.0, at=10)
    async with app.run_test(size=(80, 24)) as pilot:
        dash = await wait_for_dashboard(app, pilot)
        await pilot.pause(0.2)
        show_tab(dash, "tab-workers")

        def worker_row() -> str:
            return next((line for line in screen_text(app).splitlines() if " 4000 " in line), "")

        row = await settle(pilot, worker_row, pause=0.05)
        assert "episode_0042" in row and "95" in row and "180" in row and "alive" in row, row
