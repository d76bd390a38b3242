"""Small terminals: the dialogs' buttons stay on screen.

At 80x24 the dataset dialog (three bordered inputs) was taller than the 90% it may take, and
its Start and Cancel buttons were cut off; at 60x20 the training dialog's were too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.console_pilot import console_app, screen_text, settle, wait_for_dashboard
from textual.widgets import Button

from console.app import VidopsApp
from console.screens.job_dialogs import DatasetDialog, TrainDialog
from console.synthetic import write_finished_batch


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
@pytest.mark.parametrize("key, dialog", [("d", DatasetDialog), ("t", TrainDialog)])
async def test_job_dialog_buttons_are_visible(tmp_path: Path, size: tuple[int, int], key: str,
                                              dialog: type) -> None:
    write_finished_batch(tmp_path)
    app = console_app(tmp_path, refresh_hz=1.0)
    async with app.run_test(size=size) as pilot:
        await wait_for_dashboard(app, pilot)
        await pilot.press(key)
        await pilot.pause(0.3)
        assert isinstance(app.screen, dialog)
        screen = app.screen.region
        for button in app.screen.query(Button):
            region = button.content_region
            visible = region.intersection(screen)
            # The label row of each button is on screen, inside its dialog's visible part.
            assert visible.height >= 1 and visible.width == region.width, (button.id, region, screen)
            assert button.region.y + button.region.height <= screen.height
            assert app.screen.get_widget_at(region.x + 1, region.y)[0] is button, button.id


def _footer_text(app: VidopsApp) -> str:
    return "\n".join(screen_text(app).split("\n")[-2:])


async def test_footer_wraps_so_help_and_detach_stay_visible_at_60_columns(tmp_path: Path) -> None:
    from textual.widgets import Footer

    write_finished_batch(tmp_path)
    app = console_app(tmp_path, refresh_hz=1.0)

    async with app.run_test(size=(60, 20)) as pilot:
        await wait_for_dashboard(app, pilot)
        footer = app.screen.query_one(Footer)  # it re-composes after a refresh: settle lets it render
        keys = ("r Retry", "F Failed", "? Help", "q Detach")
        assert await settle(pilot, lambda: all(k in _footer_text(app) for k in keys)), _footer_text(app)
        assert footer.size.height == 2
        await pilot.resize_terminal(100, 30)
        assert await settle(pilot, lambda: footer.size.height == 1 and "q Detach" in _footer_text(app)), \
            _footer_text(app)
        await pilot.resize_terminal(60, 20)
        assert await settle(pilot, lambda: footer.size.height == 2 and "q Detach" in _footer_text(app)), \
            _footer_text(app)


async def test_job_dialog_starts_from_the_keyboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first field has the focus: type, enter, and the job starts (no mouse over SSH)."""
    from engine import jobs

    started: list[tuple[str, dict[str, str]]] = []
    monkeypatch.setattr(jobs, "start_job", lambda ws, kind, params, cfg=None: started.append((kind, params)) or "j1")
    write_finished_batch(tmp_path)
    app = console_app(tmp_path, refresh_hz=1.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_dashboard(app, pilot)
        await pilot.press("t")
        await pilot.pause(0.2)
        assert isinstance(app.screen, TrainDialog)
        await pilot.press(*"datasets/ds1", "enter")
        await settle(pilot, lambda: started)
        assert started == [("train", {"dataset": "datasets/ds1"})]
        await pilot.press("d")
        await pilot.pause(0.2)
        assert isinstance(app.screen, DatasetDialog) and app.screen.focused is not None
        assert app.screen.focused.id == "snapshots"


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_confirm_dialog_buttons_are_visible(tmp_path: Path, size: tuple[int, int]) -> None:
    """R's three answers: at 60 columns 'Cancel' ran past the dialog's edge (a row of wide buttons)."""
    from console.screens.confirm import ConfirmScreen

    write_finished_batch(tmp_path)
    app = console_app(tmp_path, refresh_hz=1.0)
    async with app.run_test(size=size) as pilot:
        await wait_for_dashboard(app, pilot)
        await pilot.press("R")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ConfirmScreen)
        buttons = list(app.screen.query(Button))
        assert [b.id for b in buttons] == ["choice-transient", "choice-all", "cancel"]
        box = app.screen.query_one(".dialog").content_region
        for button in buttons:
            region = button.content_region
            assert box.contains_region(region), (button.id, region, box)
            assert app.screen.get_widget_at(region.x + 1, region.y)[0] is button, button.id
