"""``vidops stop|pause|workers BATCH``: commands to a live supervisor."""

from __future__ import annotations

import argparse
import json
from typing import Any

from console.cli import EXIT_OK, CliContext, UsageError
from engine.hints import vidops_command


def register(sub: Any) -> None:
    s = sub.add_parser("stop", help="stop a running batch gracefully (resume later with 'vidops resume')",
                       description="No new videos start; videos in flight get pool.grace_s to finish, then are "
                                   "killed and recorded as interrupted.")
    s.add_argument("batch", metavar="BATCH", help="batch id (vidops list)")
    s.add_argument("--now", action="store_true", help="kill videos in flight at once (they are re-queued by resume)")
    s.set_defaults(handler=run_stop)
    p = sub.add_parser("pause", help="stop scheduling new videos (in-flight ones finish); 'vidops resume' un-pauses",
                       description="Videos in flight finish; no new video starts until 'vidops resume BATCH'. "
                                   "The batch needs a live supervisor.")
    p.add_argument("batch", metavar="BATCH", help="batch id (vidops list)")
    p.set_defaults(handler=run_pause)
    w = sub.add_parser("workers", help="change the number of workers of a running batch",
                       description="Grow the pool at once; shrinking retires idle workers first and busy ones "
                                   "when their video ends. Lasts while the supervisor runs ('resume --workers N' "
                                   "sets it for a restart).")
    w.add_argument("batch", metavar="BATCH", help="batch id (vidops list)")
    w.add_argument("n", type=int, metavar="N", help="worker processes, 1 to 512")
    w.set_defaults(handler=run_workers)


def _send(ctx: CliContext, batch: str, name: str, **args: Any) -> int:
    from engine import api

    try:
        if not api.supervisor_running(ctx.workspace, batch):
            # Checked first: after a kill -9 the socket file is left and the error read
            # "cannot reach the supervisor: Connection refused".
            state = api.batch_status(ctx.workspace, batch)["state"]
            resume = vidops_command(f"resume {batch}", ctx.workspace)
            hint = f"; '{resume}' continues it" if state in ("interrupted", "stopped", "created", "error") else ""
            raise UsageError(f"batch {batch} has no running supervisor (it is {state}){hint}")
        reply = api.command(ctx.workspace, batch, name, **args)
    except (api.BatchNotFound, api.ControlError) as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(reply, sort_keys=True))
    return EXIT_OK


def run_stop(args: argparse.Namespace, ctx: CliContext) -> int:
    return _send(ctx, args.batch, "stop", now=args.now)


def run_pause(args: argparse.Namespace, ctx: CliContext) -> int:
    return _send(ctx, args.batch, "pause")


def run_workers(args: argparse.Namespace, ctx: CliContext) -> int:
    return _send(ctx, args.batch, "set_workers", n=args.n)
