"""The Failed and Batches screens' main key, enter, is in their footer.

Their tables' own enter binding (DataTable's select_cursor, hidden) shadowed the screens' enter
bindings, so the footer read "r Retry R Retry all esc Back" and "g Reload esc Back": enter
(detail; resume/attach) worked but was not shown. On the dashboard enter stays hidden by design.
"""

from __future__ import annotations

from pathlib import Path

from support.console_pilot import console_app, screen_text, settle, wait_for_dashboard

from console.screens.detail import VideoDetailScreen
from console.screens.failed import FailedScreen
from console.screens.resume import ResumeScreen
from console.synthetic import write_finished_batch


def footer_line(text: str) -> str:
    return text.rstrip("\n").splitlines()[-1]


async def test_enter_is_shown_in_the_failed_and_batches_footers(tmp_path: Path) -> None:
    write_finished_batch(tmp_path)
    app = console_app(tmp_path, refresh_hz=1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_dashboard(app, pilot, summary=True)
        await pilot.press("F")
        assert await settle(pilot, lambda: isinstance(app.screen, FailedScreen) and app.screen.table.row_count)
        await pilot.pause(0.1)
        assert "enter Detail" in footer_line(screen_text(app)), footer_line(screen_text(app))
        await pilot.press("enter")  # and it still opens the detail
        assert await settle(pilot, lambda: isinstance(app.screen, VideoDetailScreen))
        await pilot.press("escape", "escape", "b")
        assert await settle(pilot, lambda: isinstance(app.screen, ResumeScreen) and app.screen.batches)
        await pilot.pause(0.1)
        assert "enter Resume/attach" in footer_line(screen_text(app)), footer_line(screen_text(app))
