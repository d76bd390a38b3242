"""``vidops attach BATCH``: watch a running or finished batch from any terminal."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from console.cli import CliContext, UsageError
from console.commands.common import batch_or_latest, follow_headless


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
    return follow_headless(ctx.workspace, batch_id, args.json)
