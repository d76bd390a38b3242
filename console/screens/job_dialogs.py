"""Dialogs that start a dataset build or a training run (engine.jobs.start_job parameters)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

FORMATS = ("generic", "trending")


class _DialogBox(VerticalScroll, can_focus=False):
    """Scrolls when the terminal is too small, but never takes the focus from the first field."""


class _JobDialog(ModalScreen[dict[str, Any] | None]):
    """Compact one-line fields in a scrolling box: the buttons fit at 80x24 and 60x20."""

    AUTO_FOCUS = "Input"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel", tooltip="Close without starting")]

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.submit()
        else:
            self.dismiss(None)

    def on_input_submitted(self) -> None:
        self.submit()

    def submit(self) -> None:
        raise NotImplementedError

    def _error(self, text: str) -> None:
        self.query_one(".dialog-error", Static).update(text)


class DatasetDialog(_JobDialog):
    """Snapshots file, format, output directory."""

    def compose(self) -> ComposeResult:
        with _DialogBox(classes="dialog"):
            yield Static("Build a dataset (runs detached; follow it in the Dataset tab)", classes="dialog-question")
            yield Label("snapshots file")
            yield Input(placeholder="path/to/snapshots.csv", id="snapshots", compact=True)
            yield Label("format")
            yield Select([(f, f) for f in FORMATS], value="generic", allow_blank=False, id="format", compact=True)
            yield Label("output directory")
            yield Input(placeholder="datasets/my-dataset", id="out", compact=True)
            yield Static("", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start", id="start", variant="primary")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        snapshots = self.query_one("#snapshots", Input).value.strip()
        out = self.query_one("#out", Input).value.strip()
        if not snapshots or not out:
            self._error("both the snapshots file and the output directory are needed")
            return
        fmt = str(self.query_one("#format", Select).value)
        self.dismiss({"snapshots": snapshots, "format": fmt, "out": out})


class TrainDialog(_JobDialog):
    """Dataset directory to train on."""

    def compose(self) -> ComposeResult:
        with _DialogBox(classes="dialog"):
            yield Static("Train models (runs detached; follow it in the Training tab)", classes="dialog-question")
            yield Label("dataset directory")
            yield Input(placeholder="datasets/my-dataset", id="dataset", compact=True)
            yield Static("", classes="dialog-error", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start", id="start", variant="primary")
                yield Button("Cancel", id="cancel")

    def submit(self) -> None:
        dataset = self.query_one("#dataset", Input).value.strip()
        if not dataset:
            self._error("the dataset directory is needed")
            return
        self.dismiss({"dataset": dataset})
