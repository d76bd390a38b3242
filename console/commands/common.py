"""Helpers shared by the batch commands: headless foreground runs and following a daemon."""

from __future__ import annotations

from typing import Any

from console.cli import EXIT_FAILURES, EXIT_INTERRUPTED, EXIT_OK, UsageError
from console.headless import make_renderer, seed_from_log


def run_headless(paths: Any, json_mode: bool, **kwargs: Any) -> int:
    from engine import api

    renderer = make_renderer(json_mode, paths.workspace)
    try:
        seed_from_log(renderer, paths.state)  # resume/retry: count the whole batch, not just this run
        return api.run_foreground(paths, [renderer], **kwargs)
    except api.BatchLocked as exc:
        from console.commands.console_cmd import attach_command

        raise UsageError(f"{exc}; attach with '{attach_command(paths.batch_id, paths.workspace)}'") from None
    finally:
        renderer.close()


def follow_headless(workspace: Any, batch_id: str, json_mode: bool) -> int:
    """Follow a (possibly finished) batch's events until it ends; exit code like a run's."""
    from engine import api

    renderer = make_renderer(json_mode, workspace)
    last = None
    try:
        for ev in api.follow_events(workspace, batch_id, 0):
            renderer(ev)
            last = ev
    except KeyboardInterrupt:
        return EXIT_OK  # detaching from a daemon does not stop it
    finally:
        renderer.close()
    if last is None:
        return EXIT_OK
    if last.get("type") == "batch_stopped":
        return EXIT_INTERRUPTED
    failed = (last.get("counts") or {}).get("failed", 0)
    return EXIT_FAILURES if failed else EXIT_OK


def batch_or_latest(ctx: Any, batch_id: str | None) -> str:
    from engine import api

    if batch_id:
        return batch_id
    latest = api.latest_batch(ctx.workspace)
    if latest is None:
        raise UsageError(f"no batches in workspace {ctx.workspace}")
    return latest
