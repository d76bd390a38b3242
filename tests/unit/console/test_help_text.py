"""The help's key column: every key stays apart from its description, and tabs are reachable."""

from __future__ import annotations

from textual.binding import Binding

from console.screens.help import key_map


def test_every_key_is_followed_by_a_space_before_its_description() -> None:
    # "tab / shift+tab" and "arrows, pgup/pgdn" overflowed the 14-character column and ran into
    # their text ("tab / shift+tabmove between widgets")
    text = key_map([("Dashboard screen", [Binding("r", "retry", "Retry", tooltip="Retry the selected video")])]).plain
    keyed = [line for line in text.splitlines() if line.startswith("  ")]
    assert keyed and all(line[15] == " " and line[16] != " " for line in keyed), keyed
    assert "switch tabs" in text  # the tabs are reachable from the keyboard: the help says how
