"""Opening the Textual console (``vidops`` with no command, ``run`` without --no-ui, ``attach``)."""

from __future__ import annotations

import sys
from typing import Any

from console.cli import EXIT_OK


def open_console(ctx: Any, batch_id: str | None) -> int:
    """Open the console on ``batch_id`` (or the batch list). Quitting detaches, never stops."""
    try:
        from console.app import run_app
    except ImportError:
        # The Textual console is not built yet: follow headless instead of failing.
        from console.commands.common import batch_or_latest, follow_headless

        return follow_headless(ctx.workspace, batch_or_latest(ctx, batch_id), False)
    code = run_app(ctx, batch_id)
    if batch_id:
        print(f"detached from batch {batch_id}; it keeps running. Re-attach with: vidops attach {batch_id}",
              file=sys.stderr)
    return int(code or EXIT_OK)
