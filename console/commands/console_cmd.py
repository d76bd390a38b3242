"""Opening the Textual console (``vidops`` with no command, ``run`` without --no-ui, ``attach``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from console.cli import EXIT_OK
from engine.hints import vidops_command


def open_console(ctx: Any, batch_id: str | None) -> int:
    """Open the console on ``batch_id`` (or the workspace). Quitting detaches, never stops."""
    from console.app import run_app

    code = run_app(ctx, batch_id)
    attached = getattr(run_app, "attached", None) or batch_id
    if attached:
        from engine import api

        try:
            running = api.supervisor_running(ctx.workspace, attached)
        except (OSError, ValueError):  # a batch directory gone or unreadable: say nothing about it
            running = None
        print(detach_message(attached, ctx.workspace, running), file=sys.stderr)
    return int(code or EXIT_OK)


def attach_command(batch_id: str, workspace: str | Path | None = None) -> str:
    """``vidops attach BATCH``, with ``--workspace`` unless the workspace is ./workspace."""
    return vidops_command(f"attach {batch_id}", workspace)


def detach_message(batch_id: str, workspace: str | Path | None = None, running: bool | None = None) -> str:
    """The line printed on ``q``: whether the batch goes on without the console, and how to come back."""
    if running is False:  # finished, stopped or interrupted: attaching would only show it
        status = vidops_command(f"status {batch_id}", workspace)
        return f"left batch {batch_id}; no supervisor is running it ('{status}' shows where it stands)"
    state = "it keeps running" if running else "it keeps running if it was"
    return f"detached from batch {batch_id}; {state}. Re-attach with: {attach_command(batch_id, workspace)}"
