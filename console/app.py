"""The vidops operator console (Textual): attach to a batch, watch it, act on it.

``run_app(ctx, batch_id)`` is the entry point the CLI uses. Quitting detaches: the batch is a
separate daemon and keeps running. The console reads the engine only through
:mod:`engine.api` and :mod:`engine.jobs`, always from thread workers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from console.screens.dashboard import DashboardScreen
from console.screens.help import HelpScreen
from console.screens.resume import ResumeScreen


class VidopsApp(App[int]):
    """One dashboard at a time (the attached batch); other screens are pushed over it."""

    CSS_PATH = "console.tcss"
    TITLE = "vidops"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help", key_display="?", tooltip="Every key of the console"),
        Binding("q", "detach", "Detach", id="detach", tooltip="Quit the console; the batch keeps running"),
    ]

    def __init__(self, workspace: str | Path, batch_id: str | None = None, *, config_path: str | None = None,
                 refresh_hz: float = 1.0, page_size: int = 500, clock: Callable[[], float] = time.time,
                 cursor_blink: bool = True, open_latest: bool = True) -> None:
        super().__init__()
        self.workspace = str(workspace)
        self.batch_id = batch_id
        self.config_path = config_path
        self.refresh_hz = refresh_hz
        self.page_size = page_size
        self.clock = clock
        self.cursor_blink = cursor_blink
        self.open_latest = open_latest

    def on_mount(self) -> None:
        if self.batch_id is None and self.open_latest:
            from engine import api

            self.batch_id = api.latest_batch(self.workspace)
        self.push_screen(self._dashboard(self.batch_id))
        if self.batch_id is None:
            self.push_screen(ResumeScreen(self.workspace))

    def _dashboard(self, batch_id: str | None) -> DashboardScreen:
        return DashboardScreen(self.workspace, batch_id, self.config_path, refresh_hz=self.refresh_hz,
                               page_size=self.page_size, clock=self.clock)

    def on_descendant_mount(self, event: Any) -> None:
        if not self.cursor_blink and isinstance(event.control, Input):
            event.control.cursor_blink = False

    @property
    def dashboard(self) -> DashboardScreen | None:
        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                return screen
        return None

    def attach(self, batch_id: str) -> None:
        """Show ``batch_id`` on a fresh dashboard (the old one's poll worker is cancelled with it)."""
        self.batch_id = batch_id
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(self._dashboard(batch_id))

    # -- app-wide actions -----------------------------------------------------------------
    def action_help(self) -> None:
        """The keys that work here: the current screen's (not those of screens beneath it) and the console's."""
        sections: list[tuple[str, list[Binding]]] = []
        screen = self.screen
        name = type(screen).__name__.removesuffix("Screen")
        if name and not isinstance(screen, HelpScreen) and _bindings(screen):
            sections.append((f"{name} screen", _bindings(screen)))
        sections.append(("Console", _bindings(self)))
        self.push_screen(HelpScreen(sections))

    def action_batches(self) -> None:
        self.push_screen(ResumeScreen(self.workspace, self.batch_id))

    def action_detach(self) -> None:
        self.exit(0)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Every action of the current screen and of the console, in the command palette."""
        seen = set()
        for node in (screen, self):
            for b in _bindings(node):
                if b.action in seen:
                    continue
                seen.add(b.action)
                action = b.action

                def run(node: Any = node, action: str = action) -> None:
                    self.call_later(node.run_action, action)

                yield SystemCommand(f"{b.description} ({b.key_display or b.key})", b.tooltip or b.description, run)
        yield SystemCommand("Theme", "Change the colour theme", self.action_change_theme)


def _bindings(node: Any) -> list[Binding]:
    out = []
    for b in getattr(node, "BINDINGS", []):
        if isinstance(b, Binding):
            out.append(b)
    return out


def run_app(ctx: Any, batch_id: str | None) -> int:
    """Open the console (the CLI's entry point); returns the exit code. Never stops a batch."""
    app = make_app(ctx, batch_id)
    code = app.run()
    run_app.attached = app.batch_id  # type: ignore[attr-defined]
    return int(code or 0)


def make_app(ctx: Any, batch_id: str | None) -> VidopsApp:
    """The app exactly as the CLI builds it (tests and the bench use this too)."""
    console = ctx.settings.console
    return VidopsApp(ctx.workspace, batch_id, config_path=str(ctx.config_path) if ctx.config_path else None,
                     refresh_hz=min(float(console.refresh_hz), 2.0), page_size=int(console.max_table_rows))
