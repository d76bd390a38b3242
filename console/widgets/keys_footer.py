"""The console's footer: compact, and wrapped onto more rows when its keys do not fit on one.

Textual's footer is one row that clips at the right edge, and the console's own keys (``? Help``,
``q Detach``) come last: at 60 columns the dashboard's footer hid both.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import HorizontalGroup
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

MAX_ROWS = 3


def key_width(key: FooterKey) -> int:
    """Columns of a compact key: "k description" and the one-column margin after it."""
    return len(key.key_display) + 1 + len(key.description) + 1


def wrap_keys(keys: list[FooterKey], width: int) -> list[list[FooterKey]]:
    """Keys in rows of at most ``width`` columns, in order (at most MAX_ROWS; the last takes the rest)."""
    rows: list[list[FooterKey]] = [[]]
    used = 0
    for key in keys:
        w = key_width(key)
        if rows[-1] and used + w > width and len(rows) < MAX_ROWS:
            rows.append([])
            used = 0
        rows[-1].append(key)
        used += w
    return rows


class KeysFooter(Footer):
    """Every key of the screen stays visible: the footer flows onto a second row when narrow."""

    DEFAULT_CSS = """
    KeysFooter.-wrapped { layout: vertical; }
    KeysFooter HorizontalGroup.footer-row { height: 1; width: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__(compact=True, show_command_palette=False)
        self._width = 0

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        self._width = self.app.size.width
        plain = [k for k in keys if isinstance(k, FooterKey)]
        rows = wrap_keys(plain, self._width) if len(plain) == len(keys) else [keys]
        self.set_class(len(rows) > 1, "-wrapped")
        self.styles.height = len(rows)
        if len(rows) == 1:
            yield from keys
            return
        for row in rows:
            with HorizontalGroup(classes="footer-row"):
                yield from row

    def on_resize(self, event: events.Resize) -> None:
        if self._width and self.app.size.width != self._width:
            self.call_later(self.recompose)
