"""Small helpers for user-facing text."""

from __future__ import annotations

import os
from pathlib import Path


def plural(n: int, word: str, many: str | None = None) -> str:
    """``"1 video"``, ``"2 videos"``, ``"0 videos"``; ``many`` for irregular plurals (``"1 entry"``/``"entries"``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def display_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the current directory when it lies under it, else absolute.

    Output that lists paths some given relative (``--workspace ws``) and some resolved by the
    engine (``/home/me/ws/...``) reads as if they were in different places.
    """
    p = Path(os.path.abspath(path))  # absolute, ".." folded
    try:
        return str(p.relative_to(os.getcwd()))
    except ValueError:
        return str(p)
