"""``vidops resume BATCH`` and ``vidops retry BATCH``: continue a batch, re-queue failures."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from console.cli import EXIT_FAILURES, EXIT_INTERNAL, EXIT_OK, CliContext, UsageError
from console.commands.common import run_headless
from console.commands.console_cmd import attach_command
from engine.batch import BatchPaths
from engine.hints import vidops_command
from engine.text import plural


def register(sub: Any) -> None:
    p = sub.add_parser("resume", help="continue a stopped or crashed batch (or un-pause a live one)",
                       description="Replay the batch's event log and re-queue every video not finished, including "
                                   "those in flight at a crash; attempt counts are kept. On a live, paused batch it "
                                   "resumes scheduling.",
                       epilog="Exit codes as for 'vidops run': 0 all done or skipped, 1 failed videos, "
                              "2 usage error, 3 internal error, 130 interrupted.")
    p.add_argument("batch", metavar="BATCH", help="batch id (vidops list)")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: the batch's pool.workers)")
    p.add_argument("--no-ui", action="store_true", help="headless in this terminal (default when not a TTY)")
    p.add_argument("--json", action="store_true", help="one JSON event per line")
    p.add_argument("--detach", action="store_true", help="continue as a daemon")
    p.set_defaults(handler=run_resume)

    r = sub.add_parser("retry", help="re-queue failed videos",
                       description="Re-queue failed videos of a batch: into its live supervisor if there is one, "
                                   "otherwise by resuming it (detached unless --no-ui/--json). --all-failed takes "
                                   "every failure that was not permanent; videos named with --video are retried "
                                   "whatever their class (fix the input first).")
    r.add_argument("batch", metavar="BATCH", help="batch id (vidops list)")
    r.add_argument("--video", action="append", default=[], metavar="KEY",
                   help="video key, as in 'vidops status' FAILED lines (repeatable)")
    r.add_argument("--all-failed", action="store_true", help="every failed video with a non-permanent error")
    r.add_argument("--include-permanent", action="store_true", help="with --all-failed: permanent failures too")
    r.add_argument("--no-ui", action="store_true", help="when resuming, run headless in this terminal")
    r.add_argument("--json", action="store_true", help="when resuming, one JSON event per line")
    r.set_defaults(handler=run_retry)


def run_resume(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine import api

    try:
        return _resume(args, ctx)
    except (api.BatchNotFound, api.BatchLocked, api.WorkspaceError) as exc:
        raise UsageError(str(exc)) from None
    except (api.BatchAborted, api.SupervisorFailed) as exc:  # disk full, or a daemon dead at start: exit 3
        print(f"vidops: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


def _resume(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine import api

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    paths = api.batch_paths(ctx.workspace, args.batch)
    if api.supervisor_alive(paths):
        try:
            state = api.command(ctx.workspace, args.batch, "status").get("state")
            if state == "paused":
                reply = api.command(ctx.workspace, args.batch, "resume")
                print(f"batch {args.batch} is running; scheduling resumed (paused={reply.get('paused')})")
                return EXIT_OK
            if state != "stopping":  # nothing to resume: say so rather than "scheduling resumed"
                print(f"batch {args.batch} is already running (supervisor pid {api.read_lock_pid(paths)}); "
                      f"watch it with '{attach_command(args.batch, ctx.workspace)}'")
                return EXIT_OK
        except api.ControlError:
            pass  # the supervisor is going away
        _wait_for_exit(paths, ctx.settings.pool.grace_s + 30, ctx.workspace)
    status = api.batch_status(ctx.workspace, args.batch)
    if status["state"] == "finished" and not status["counts"]["queued"]:
        # Every video has its outcome: a supervisor would only append events (and stretch the
        # batch's elapsed time). Failed videos come back with retry, not resume.
        c = status["counts"]
        print(f"batch {args.batch} already finished: {c['done']} done, {c['skipped']} skipped, {c['failed']} failed; "
              f"nothing to resume{_retry_hint(args.batch, status['failed'], ctx.workspace)}")
        return EXIT_FAILURES if c["failed"] else EXIT_OK
    if args.detach:
        pid = api.start_detached(paths, workers=args.workers)
        print(paths.batch_id)
        print(f"supervisor pid {pid}", file=sys.stderr)
        return EXIT_OK
    ui = not (args.no_ui or args.json) and sys.stdout.isatty() and sys.stdin.isatty()
    if ui:
        from console.commands.console_cmd import open_console

        api.start_detached(paths, workers=args.workers)
        return open_console(ctx, paths.batch_id)
    return run_headless(paths, args.json, workers=args.workers)


def _retry_hint(batch: str, failed: list[dict[str, Any]], workspace: str | Path | None = None) -> str:
    """How to bring a finished batch's failures back: --all-failed skips permanent ones."""
    if not failed:
        return ""
    transient = sum(1 for f in failed if f.get("transient") or f.get("error_class") == "unknown")
    if transient:
        return (f" ('{vidops_command(f'retry {batch} --all-failed', workspace)}' re-queues the "
                f"{plural(transient, 'retryable failure')})")
    return (f" (its failures are permanent: fix the inputs, then '{vidops_command(f'retry {batch} --video KEY', workspace)}', "
            "or --all-failed --include-permanent)")


def _wait_for_exit(paths: BatchPaths, timeout_s: float, workspace: str | Path | None = None) -> None:
    """A stopping supervisor finishes its in-flight videos first: wait, then restart the batch."""
    import time

    from engine import api

    deadline = time.monotonic() + timeout_s
    while api.supervisor_alive(paths):
        if time.monotonic() > deadline:
            raise UsageError("the batch's supervisor is still stopping; try again when "
                             f"'{vidops_command(f'status {paths.batch_id}', workspace)}' says stopped")
        time.sleep(0.1)


def run_retry(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine import api

    if not args.video and not args.all_failed:
        raise UsageError("name videos with --video KEY or use --all-failed")
    try:
        paths = api.batch_paths(ctx.workspace, args.batch)
        if not api.supervisor_alive(paths) and (args.no_ui or args.json):
            _, nothing = api.retry_plan(ctx.workspace, args.batch, args.video, args.all_failed, args.include_permanent)
            if nothing is None:
                return run_headless(paths, args.json, retry_keys=args.video, retry_all_failed=args.all_failed,
                                    include_permanent=args.include_permanent)
            print(json.dumps({"ok": True, "requeued": [], "resumed": False, "message": nothing}, sort_keys=True))
            print(f"vidops: {nothing}", file=sys.stderr)
            return EXIT_OK
        reply = api.retry_videos(ctx.workspace, args.batch, args.video, all_failed=args.all_failed,
                                 include_permanent=args.include_permanent)
    except (api.BatchNotFound, KeyError, api.ControlError, api.BatchLocked, api.WorkspaceError) as exc:
        raise UsageError(str(exc).strip("'\"")) from None
    except (api.BatchAborted, api.SupervisorFailed) as exc:
        print(f"vidops: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    print(json.dumps(reply, sort_keys=True))
    if reply.get("message"):
        print(f"vidops: {reply['message']}", file=sys.stderr)
    elif reply.get("requeued") == []:  # the live supervisor's reply: say why, as without one
        state = api.load_state(ctx.workspace, args.batch)
        print(f"vidops: {api.nothing_to_retry(state, args.video, ctx.workspace, args.batch)}", file=sys.stderr)
    return EXIT_OK
