"""``vidops attach BATCH``: watch a running or finished batch from any terminal."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli import EXIT_INTERRUPTED, CliContext, UsageError
from console.commands.common import batch_or_latest, follow_headless
from engine.hints import vidops_command


def register(sub: Any) -> None:
    p = sub.add_parser("attach", help="watch a batch (console on a terminal; headless with --no-ui/--json)",
                       description="Attach to BATCH (default: the newest). Leaving (q or Ctrl-C) never stops it.")
    p.add_argument("batch", nargs="?", metavar="BATCH", help="batch id (default: the newest; see vidops list)")
    p.add_argument("--no-ui", action="store_true", help="follow progress headless")
    p.add_argument("--json", action="store_true", help="follow events as JSON lines")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine import api

    batch_id = batch_or_latest(ctx, args.batch)
    try:
        api.batch_paths(ctx.workspace, batch_id)
    except api.BatchNotFound as exc:
        raise UsageError(str(exc)) from None
    if not (args.no_ui or args.json) and sys.stdout.isatty() and sys.stdin.isatty():
        from console.commands.console_cmd import open_console

        return open_console(ctx, batch_id)
    code = follow_headless(ctx.workspace, batch_id, args.json)
    # The log ended without batch_finished/batch_stopped and nobody holds the batch: its supervisor
    # died (kill -9, OOM killer, reboot). Say so instead of ending quietly with 0.
    if not api.supervisor_running(ctx.workspace, batch_id) and api.batch_status(ctx.workspace, batch_id)["state"] in (
            "interrupted", "created"):
        print(f"vidops: batch {batch_id} has no running supervisor and did not finish (crashed, killed or never "
              f"started); '{vidops_command(f'resume {batch_id}', ctx.workspace)}' continues it", file=sys.stderr)
        return EXIT_INTERRUPTED
    return code
