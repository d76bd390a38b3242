"""The video detail screen follows its video: after `r` it showed '[failed] attempts 1' for good.

It was a snapshot of the row as opened; a retry from it re-ran the video while the screen
still said failed, with the old error in red and the old (empty) components.
"""

from __future__ import annotations

from pathlib import Path

from support.console_pilot import console_app, screen_text, wait_for_dashboard, wait_for_text

from console.screens.detail import VideoDetailScreen
from console.synthetic import T0, _ev, write_finished_batch
from engine.events import EventWriter

BATCH = "20260921-120000-abc123"
KEY = "local__v000006"  # failed (not_video) in the synthetic batch


async def test_detail_screen_follows_a_retried_video_to_done(tmp_path: Path) -> None:
    root = write_finished_batch(tmp_path, BATCH)
    app = console_app(tmp_path, BATCH, refresh_hz=4.0)
    async with app.run_test(size=(120, 30)) as pilot:
        dash = await wait_for_dashboard(app, pilot)
        await pilot.pause(0.1)
        dash.open_detail(KEY)
        assert await wait_for_text(app, pilot, "[failed]  attempts 1"), screen_text(app)
        assert isinstance(app.screen, VideoDetailScreen)
        # What the supervisor logs for a retry of the video that now succeeds.
        with EventWriter(root / "state.jsonl", fsync_interval_s=3600) as w:
            t = T0 + 500
            w.write(_ev("video_queued", t, key=KEY, platform_id="local", video_id="v000006", reset_budget=True))
            w.write(_ev("video_started", t + 1, key=KEY, worker=0, pid=4000, run_id="r6b", attempt=2))
            w.write(_ev("video_succeeded", t + 2, key=KEY, run_id="r6b", wall_s=1.0, components={"probe": "done"}))
        assert await wait_for_text(app, pilot, "[done]  attempts 2  run r6b", tries=250), screen_text(app)
        # the manifest and log are read again for the new run (it showed the failed run's)
        assert await wait_for_text(app, pilot, "v000006/r6b/manifest.json", tries=250), screen_text(app)
        assert "not_video" not in screen_text(app)
