"""Helpers for console tests that drive ``VidopsApp`` with Textual's Pilot.

The waits poll a fixed number of times with a fixed pause, as the tests did inline: a wait that
runs out returns the last answer (``False``, ``""``...) and the caller keeps its own assert.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from textual.pilot import Pilot
from textual.widgets import TabbedContent

from console.app import VidopsApp
from console.screens.dashboard import DashboardScreen
from console.synthetic import T0

T = TypeVar("T")

# write_finished_batch's default batch id.
FINISHED_BATCH = "20260921-120000-abc123"


def console_app(ws: Path, batch_id: str = FINISHED_BATCH, *, refresh_hz: float, at: float = 500,
                **kwargs: Any) -> VidopsApp:
    """A console on ``batch_id`` whose clock stands still at ``T0 + at``, with no cursor blink."""
    return VidopsApp(ws, batch_id, refresh_hz=refresh_hz, clock=lambda: T0 + at, cursor_blink=False, **kwargs)


def screen_text(app: VidopsApp) -> str:
    """The text of the current screen as rendered, one line per row."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle(pilot: Pilot[Any], pred: Callable[[], T], tries: int = 100, pause: float = 0.02) -> T:
    """``pred()`` once it is truthy, pausing ``pause`` s between at most ``tries`` looks; else its last value."""
    for _ in range(tries):
        value = pred()
        if value:
            return value
        await pilot.pause(pause)
    return pred()


async def wait_for_dashboard(app: VidopsApp, pilot: Pilot[Any], *, summary: bool = False) -> DashboardScreen:
    """The dashboard once it has polled (and, with ``summary``, has a summary); asserts it did."""

    def ready() -> DashboardScreen | None:
        dash = app.dashboard
        if isinstance(dash, DashboardScreen) and dash.polls >= 1 and (not summary or dash.summary is not None):
            return dash
        return None

    dash = await settle(pilot, ready, tries=200, pause=0.02)
    assert dash is not None, "the dashboard never polled"
    return dash


async def wait_for_text(app: VidopsApp, pilot: Pilot[Any], needle: str, tries: int = 100,
                        pause: float = 0.02) -> bool:
    """Whether ``needle`` is on screen, waiting for it as ``settle`` does."""
    return await settle(pilot, lambda: needle in screen_text(app), tries, pause)


def show_tab(dash: DashboardScreen, tab: str) -> None:
    """Switch the dashboard to ``tab`` (a tab pane id such as ``"tab-workers"``)."""
    dash.query_one("#tabs", TabbedContent).active = tab


async def tab_text(app: VidopsApp, pilot: Pilot[Any], tab: str, needle: str, *, tries: int = 250,
                   pause: float = 0.02) -> str:
    """Open ``tab`` on the polled dashboard and return the screen text once ``needle`` shows
    (asserted, with the screen in the message)."""
    show_tab(await wait_for_dashboard(app, pilot), tab)
    found = await wait_for_text(app, pilot, needle, tries, pause)
    text = screen_text(app)
    assert found, text
    return text
