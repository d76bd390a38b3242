"""Small helpers for user-facing text."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 video"``, ``"2 videos"``, ``"0 videos"``; ``many`` for irregular plurals (``"1 entry"``/``"entries"``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
