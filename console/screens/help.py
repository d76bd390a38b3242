"""Help: every key of the console, read from the bindings themselves."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# (screen title, bindings) pairs are passed in so the help never drifts from the code.
EXTRA = [("ctrl+p", "command palette: every action by name"),
         ("tab/shift+tab", "move focus; on the tab bar, left/right switch tabs"),
         ("arrows", "move in tables (pgup/pgdn: a screen at a time)")]
KEY_WIDTH = 13  # then at least one space, however long a key is


def key_map(sections: list[tuple[str, list[Binding]]]) -> Text:
    t = Text()
    for title, bindings in sections:
        t.append(f"{title}\n", "bold underline")
        for b in bindings:
            t.append(f"  {b.key_display or b.key:<{KEY_WIDTH}} ", "bold")
            t.append(f"{b.tooltip or b.description}\n")
        t.append("\n")
    t.append("Anywhere\n", "bold underline")
    for key, text in EXTRA:
        t.append(f"  {key:<{KEY_WIDTH}} ", "bold")
        t.append(f"{text}\n")
    return t


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close", tooltip="Close the help")]

    def __init__(self, sections: list[tuple[str, list[Binding]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static(Text("vidops console: keys\n", "bold"))
            yield Static(key_map(self.sections))
            yield Static("Quitting (q) detaches: the batch keeps running. Esc closes this help.")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(None)
