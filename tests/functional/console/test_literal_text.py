"""Operator and engine text is shown literally: square brackets are not console markup.

A search for ``[/x]`` used to crash the console (MarkupError), the paging hint ``[ and ]``
vanished from the status line, and ``[hd]`` in an error message or a path disappeared.
"""

from __future__ import annotations

from pathlib import Path

from support.console_pilot import console_app, screen_text, wait_for_dashboard

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


async def test_brackets_in_search_errors_and_hints_are_literal(tmp_path: Path) -> None:
    write_batch(tmp_path)
    app = console_app(tmp_path, BATCH, refresh_hz=1.0, at=10, page_size=5)
    async with app.run_test(size=(160, 30)) as pilot:
        dash = await wait_for_dashboard(app, pilot, summary=True)
        await pilot.pause(0.1)
        text = screen_text(app)
        assert "([ and ] to page)" in text  # the paging keys are named
        assert "[hd] clip [/x].mp4" in text  # the error message in the videos table, as written
        await pilot.press("F")
        await pilot.pause(0.2)
        assert isinstance(app.screen, FailedScreen)
        assert "[hd] clip [/x].mp4" in screen_text(app)
        await pilot.press("escape", "slash", *"[/x]", "enter")
        await pilot.pause(0.2)
        assert dash.videos.search == "[/x]"
        assert "search '[/x]'  rows none" in screen_text(app)  # no MarkupError: the console is still up
        assert dash.videos.row_count == 0
