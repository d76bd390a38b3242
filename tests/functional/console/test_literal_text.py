"""Operator and engine text is shown literally: square brackets are not console markup.

A search for ``[/x]`` used to crash the console (MarkupError), the paging hint ``[ and ]``
vanished from the status line, and ``[hd]`` in an error message or a path disappeared.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from console.app import VidopsApp
from console.screens.dashboard import DashboardScreen
from console.screens.failed import FailedScreen
from console.synthetic import T0, _ev, make_batch_dir
from engine.events import EventWriter

BATCH = "b-brackets"
MESSAGE = "cannot decode /data/[hd] clip [/x].mp4: no video stream"


def write_batch(ws: Path, n: int = 12) -> None:
    root = make_batch_dir(ws, BATCH, n)
    with EventWriter(root / "state.jsonl", fsync_interval_s=3600) as w:
        w.write(_ev("batch_started", T0, batch_id=BATCH, total=n, config_hash="synthetic"))
        for i in range(n):
            w.write(_ev("video_queued", T0, key=f"local__v{i:06d}", platform_id="local", video_id=f"v{i:06d}"))
        w.write(_ev("video_started", T0 + 1, key="local__v000000", worker=0, pid=1, run_id="r0", attempt=1))
        w.write(_ev("video_failed", T0 + 2, key="local__v000000", error_class="not_video", transient=False,
                    message=MESSAGE, attempt=1, final=True))
        w.write(_ev("batch_finished", T0 + 3, state="finished"))


async def _ready(pilot: Any) -> DashboardScreen:
    for _ in range(200):
        dash = pilot.app.dashboard
        if isinstance(dash, DashboardScreen) and dash.polls >= 1 and dash.summary is not None:
            return dash
        await pilot.pause(0.02)
    raise AssertionError("the dashboard never polled")


def _screen_text(app: VidopsApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def test_brackets_in_search_errors_and_hints_are_literal(tmp_path: Path) -> None:
    write_batch(tmp_path)
    app = VidopsApp(tmp_path, BATCH, refresh_hz=1.0, page_size=5, clock=lambda: T0 + 10, cursor_blink=False)
    async with app.run_test(size=(160, 30)) as pilot:
        dash = await _ready(pilot)
        await pilot.pause(0.1)
        text = _screen_text(app)
        assert "([ and ] to page)" in text  # the paging keys are named
        assert "[hd] clip [/x].mp4" in text  # the error message in the videos table, as written
        await pilot.press("F")
        await pilot.pause(0.2)
        assert isinstance(app.screen, FailedScreen)
        assert "[hd] clip [/x].mp4" in _screen_text(app)
        await pilot.press("escape", "slash", *"[/x]", "enter")
        await pilot.pause(0.2)
        assert dash.videos.search == "[/x]"
        assert "search '[/x]'  rows none" in _screen_text(app)  # no MarkupError: the console is still up
        assert dash.videos.row_count == 0
