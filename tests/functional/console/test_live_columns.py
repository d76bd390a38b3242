"""Columns grow with what arrives later: a batch attached while every video was queued.

The videos table is filled while every status reads "· queued" and the stage and error
columns are empty; updates by key used to keep those first widths, so a live row read
"▶ runnin", its stage "extra" and its error "not_video:" only. The workers' "current video"
was cut the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from support.console_pilot import console_app, screen_text, settle, show_tab, wait_for_dashboard

from console.synthetic import T0, _ev, make_batch_dir
from engine.events import EventWriter

BATCH = "b-columns"


async def test_columns_widen_for_running_rows_stages_errors_and_worker_videos(tmp_path: Path, monkeypatch: Any) -> None:
    from engine import api

    monkeypatch.setattr(api, "supervisor_running", lambda ws, batch: True)  # as if a supervisor wrote the log
    root = make_batch_dir(tmp_path, BATCH, 3)
    w = EventWriter(root / "state.jsonl", fsync_interval_s=3600)
    w.write(_ev("batch_started", T0, batch_id=BATCH, total=3, config_hash="synthetic"))
    for i in range(3):
        w.write(_ev("video_queued", T0, key=f"local__v{i:06d}", platform_id="local", video_id=f"v{i:06d}"))
    w.write(_ev("worker_started", T0, worker=0, pid=4000))
    app = console_app(tmp_path, BATCH, refresh_hz=2.0, at=5)
    try:
        async with app.run_test(size=(160, 20)) as pilot:
            dash = await wait_for_dashboard(app, pilot, summary=True)
            assert "· queued" in screen_text(app)
            w.write(_ev("video_started", T0 + 1, key="local__v000000", worker=0, pid=4000, run_id="r0", attempt=1))
            w.write(_ev("video_progress", T0 + 2, key="local__v000000", stage="extract", fraction=0.5))
            w.write(_ev("video_started", T0 + 1, key="local__v000001", worker=1, pid=4001, run_id="r1", attempt=1))
            w.write(_ev("video_failed", T0 + 2, key="local__v000001", error_class="not_video", transient=False,
                        message="cannot decode /data/v000001.mp4: no video stream", attempt=1, final=True))
            await settle(pilot, lambda: dash.videos.rows_by_key["local__v000000"].status == "running"
                         and dash.videos.failed_keys, pause=0.05)
            await pilot.pause(0.2)
            text = screen_text(app)
            assert "▶ running  v000000  extract" in text
            assert "not_video: cannot decode /data/v000001.mp4: no video stream" in text
            show_tab(dash, "tab-workers")
            await pilot.pause(0.2)
            assert "local__v000000" in screen_text(app)
    finally:
        w.close()
