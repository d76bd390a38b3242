"""Help lists the keys that work where it was opened: that screen's and the console's.

It used to list every screen of the stack: on the Failed screen the dashboard's keys (f, /, p...)
that do nothing there, and an unnamed " screen" section for Textual's default screen (tab and
shift+tab, already under "Anywhere").
"""

from __future__ import annotations

from pathlib import Path

from support.console_pilot import console_app, wait_for_dashboard

from console.screens.failed import FailedScreen
from console.screens.help import HelpScreen
from console.synthetic import write_finished_batch


async def test_help_sections_are_the_current_screen_and_the_console(tmp_path: Path) -> None:
    write_finished_batch(tmp_path)
    app = console_app(tmp_path, refresh_hz=1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_dashboard(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        assert [title for title, _ in app.screen.sections] == ["Dashboard screen", "Console"]
        await pilot.press("escape", "F")
        await pilot.pause(0.2)
        assert isinstance(app.screen, FailedScreen)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        assert [title for title, _ in app.screen.sections] == ["Failed screen", "Console"]
        keys = {b.key for _, bindings in app.screen.sections for b in bindings}
        assert {"r", "R", "enter", "escape", "q", "question_mark"} <= keys and "f" not in keys
