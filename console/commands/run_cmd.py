"""``vidops run LIST``: start a batch (foreground headless, detached, or in the console)."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from console.cli import EXIT_INTERNAL, EXIT_OK, CliContext, UsageError
from console.commands.common import follow_headless, run_headless


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "run", help="run a batch of videos through extraction",
        description="Validate LIST (CSV, JSON array or JSONL with a video_path column; optional platform_id, "
                    "video_id, channel_id, published_at) and process every video in a supervised worker pool. "
                    "On a terminal the batch runs as a daemon and the console opens; --no-ui/--json run it in "
                    "this terminal (Ctrl-C stops gracefully), --detach prints the batch id and returns. Videos "
                    "already done under the same config are skipped, so re-running a list is cheap.",
        epilog="Exit codes: 0 every video done or skipped, 1 finished with failed videos, 2 usage/config/list "
               "error (nothing started), 3 internal error, 130 interrupted (continue with 'vidops resume BATCH').",
    )
    p.add_argument("list", metavar="LIST", help="list file: .csv, .json or .jsonl")
    p.add_argument("--batch-id", metavar="ID", help="batch id (default: time-stamped); must be new")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: pool.workers, auto)")
    p.add_argument("--backend", choices=["local", "ray"], help="execution backend (default: pool.backend)")
    p.add_argument("--no-ui", action="store_true", help="run headless in this terminal (progress bar, or plain lines when not a TTY)")
    p.add_argument("--json", action="store_true", help="headless, one JSON event per line on stdout")
    p.add_argument("--detach", action="store_true", help="run as a daemon: print the batch id and return")
    p.set_defaults(handler=run)


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if getattr(args, "workers", None) is not None:
        if args.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {args.workers}")
        out["pool.workers"] = args.workers
    if getattr(args, "backend", None):
        out["pool.backend"] = args.backend
    return out


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine import api

    ctx = ctx.with_overrides(overrides(args))
    if ctx.settings.pool.backend == "ray":
        from engine.backends import check_available

        check_available("ray")
    try:
        paths = api.prepare_batch(ctx.workspace, ctx.settings, args.list, args.batch_id)
    except api.ListFileError as exc:
        raise UsageError(str(exc)) from None
    except (FileExistsError, ValueError, api.WorkspaceError) as exc:
        raise UsageError(str(exc)) from None
    try:
        if args.detach:
            pid = api.start_detached(paths)
            print(paths.batch_id)
            print(f"supervisor pid {pid}; follow with: vidops --workspace {shlex.quote(str(ctx.workspace))} attach "
                  f"{shlex.quote(paths.batch_id)}", file=sys.stderr)  # quoted: both may hold spaces
            return EXIT_OK
        ui = not (args.no_ui or args.json) and sys.stdout.isatty() and sys.stdin.isatty()
        if ui:
            from console.commands.console_cmd import open_console

            api.start_detached(paths)
            return open_console(ctx, paths.batch_id)
        return run_headless(paths, args.json)
    except api.WorkspaceError as exc:
        raise UsageError(str(exc)) from None
    except (api.BatchAborted, api.SupervisorFailed) as exc:  # disk full, or a daemon dead at start: exit 3
        print(f"vidops: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


_ = follow_headless
