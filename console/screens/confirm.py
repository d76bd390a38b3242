"""A modal question with a few answers (buttons); dismisses with the chosen id or None."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmScreen(ModalScreen[str | None]):
    """``choices`` are (id, label) pairs; the first is focused; escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm.cancel", tooltip="Close without doing anything")]
    # Below 76 columns a row of wide answers runs past the dialog: console.tcss stacks them.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (76, "-wide")]

    def __init__(self, question: str, choices: list[tuple[str, str]]) -> None:
        super().__init__()
        self.question = question
        self.choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="dialog-question", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for i, (choice_id, label) in enumerate(self.choices):
                    yield Button(label, id=f"choice-{choice_id}", variant="error" if i == 0 else "default")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query(Button).first().focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        bid = event.button.id or ""
        self.dismiss(bid.removeprefix("choice-") if bid.startswith("choice-") else None)

    def action_cancel(self) -> None:
        self.dismiss(None)
