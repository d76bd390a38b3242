"""The Batches screen (b) opens on the attached batch, so enter acts on the batch being watched.

The list is sorted newest first and its cursor started on row 0: from the dashboard of an older
stopped batch, b then enter resumed the newest batch of the workspace instead.
"""

from __future__ import annotations

from pathlib import Path

from support.console_pilot import console_app, settle, wait_for_dashboard
from textual.widgets import DataTable

from console.screens.resume import ResumeScreen
from console.synthetic import write_finished_batch


async def test_batches_screen_cursor_starts_on_the_attached_batch(tmp_path: Path) -> None:
    write_finished_batch(tmp_path, batch_id="b-newest", n=40)
    write_finished_batch(tmp_path, batch_id="b-older", n=10, end_state="stopped")
    app = console_app(tmp_path, "b-older", refresh_hz=1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_dashboard(app, pilot)
        await pilot.press("b")
        screen = app.screen
        assert isinstance(screen, ResumeScreen)
        await settle(pilot, lambda: screen.batches)
        await pilot.pause(0.1)
        table = screen.query_one("#resume-table", DataTable)
        assert [str(k.value) for k in table.rows] == ["b-newest", "b-older"]  # newest first
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "b-older"
        # the counts as 'vidops list' gives them, skipped included (a batch of skipped videos read 'done 0')
        from engine import api

        for b in api.list_batch_summaries(tmp_path):
            c = b["counts"]
            want = [str(c[k]) for k in ("total", "done", "skipped", "failed", "queued")]
            assert [str(x) for x in table.get_row(b["batch_id"])[2:7]] == want
        assert str(table.get_row("b-newest")[4]) != "0"  # the synthetic batch skips every 11th video
        await pilot.press("up", "g")  # reload keeps the operator's selection
        await pilot.pause(0.3)
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == "b-newest"
