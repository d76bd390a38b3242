"""Opening the Textual console (``vidops`` with no command, ``run`` without --no-ui, ``attach``)."""

from __future__ import annotations

import sys
from typing import Any

from console.cli import EXIT_OK


def open_console(ctx: Any, batch_id: str | None) -> int:
    """Open the console on ``batch_id`` (or the workspace). Quitting detaches, never stops."""
    from console.app import run_app

    code = run_app(ctx, batch_id)
    attached = getattr(run_app, "attached", None) or batch_id
    if attached:
        print(detach_message(attached), file=sys.stderr)
    return int(code or EXIT_OK)


def detach_message(batch_id: str) -> str:
    return (f"detached from batch {batch_id}; it keeps running if it was. "
            f"Re-attach with: vidops attach {batch_id}")
