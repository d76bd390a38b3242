"""``vidops status [BATCH]`` and ``vidops list``: where batches stand."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from console.cli import EXIT_OK, CliContext, UsageError
from console.commands.common import batch_or_latest
from engine.hints import vidops_command
from engine.text import plural


def register(sub: Any) -> None:
    p = sub.add_parser("status", help="show a batch's state, counts, alerts and statistics",
                       description="Status of BATCH (default: the newest batch) from its event log. State "
                                   "'interrupted' means its supervisor died (crash, kill, reboot): 'vidops resume "
                                   "BATCH' continues it.")
    p.add_argument("batch", nargs="?", metavar="BATCH", help="batch id (default: the newest; see vidops list)")
    p.add_argument("--json", action="store_true", help="machine-readable JSON")
    p.set_defaults(handler=run_status)
    ls = sub.add_parser("list", help="list the batches in the workspace",
                        description="One line per batch of the workspace: id, state, counts, last update.")
    ls.add_argument("--json", action="store_true", help="machine-readable JSON")
    ls.set_defaults(handler=run_list)


def _ago(ts: float | None) -> str:
    if not ts:
        return "-"
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def run_status(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine import api

    batch_id = batch_or_latest(ctx, args.batch)
    try:
        doc = api.batch_status(ctx.workspace, batch_id)
    except api.BatchNotFound as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(doc, indent=2, sort_keys=True, default=str))
        return EXIT_OK
    c = doc["counts"]
    print(f"batch     {doc['batch_id']}  ({doc['state']}{', supervisor pid ' + str(doc['supervisor_pid']) if doc['supervisor_pid'] else ''})")
    print(f"videos    {c['total']} total: {c['done']} done, {c['skipped']} skipped, {c['failed']} failed, "
          f"{c['running']} running, {c['queued']} queued")
    eta = f", ETA {doc['eta_s']:.0f} s" if doc.get("eta_s") else ""
    print(f"rate      {doc['throughput_per_min']} videos/min{eta}; elapsed {doc['elapsed_s']} s")
    pv = doc["stats"]["per_video_time"]
    if pv.get("n"):
        print(f"per video mean {pv['mean_s']} s, p50 {pv['p50_s']} s, p95 {pv['p95_s']} s")
    for w in doc.get("workers", []):
        print(f"worker {w['worker']} pid {w['pid']}: {w['state']} {w.get('video') or ''} {w.get('stage') or ''}")
    if doc["stats"]["components"]:
        print(f"components {_components(doc['stats']['components'])}")
    for f in doc["failed"][:20]:
        said = str(f.get("message") or "").startswith(f"row {f.get('row')}:")  # invalid_input names it already
        row = f" (list row {f['row']})" if f.get("row") and not said else ""
        print(f"FAILED {f['key']}{row}: {f['error_class']}: {f['message']} (attempts {f['attempts']})")
    if c["failed"] > 20:  # the count, not len(failed): status --json lists at most 1000
        print(f"... and {plural(c['failed'] - 20, 'more failure')} "
              f"({vidops_command(f'status {batch_id} --json', ctx.workspace)} lists up to 1000)")
    for a in doc["alerts"][-10:]:
        print(f"ALERT {_ago(a.get('ts'))} [{a.get('severity')}] {a.get('kind')}: {a.get('message')}")
    hint = _next_step(doc, ctx.workspace)
    if hint:
        print(f"next      {hint}")
    return EXIT_OK


def _components(comps: dict[str, dict[str, int]]) -> str:
    # "clap 0/2" read as two failures; a component skipped for a reason (no audio track) says so.
    return ", ".join(f"{k} {v.get('done', 0)}/{sum(v.values())}" + (f" ({v['skipped']} skipped)" if v.get("skipped") else "")
                     for k, v in comps.items())


def _next_step(doc: dict[str, Any], workspace: str | Path | None = None) -> str | None:
    """What an operator can do about the state shown (the commands, not just the facts).

    The commands name ``--workspace`` when ``workspace`` is not ./workspace.
    """
    b, state, c = doc["batch_id"], doc["state"], doc["counts"]

    def cmd(args: str) -> str:
        return vidops_command(args, workspace)

    if state in ("interrupted", "created", "stopped") and c["queued"]:
        why = {"interrupted": "its supervisor is gone", "created": "it never started", "stopped": "it was stopped"}
        return f"{why[state]}; '{cmd(f'resume {b}')}' continues the {plural(c['queued'], 'unfinished video')}"
    if state == "error":
        return f"fix what the fatal alert names (see {doc['batch_dir']}/logs/workers.log), then '{cmd(f'resume {b}')}'"
    if state == "paused":
        return f"'{cmd(f'resume {b}')}' starts new videos again"
    transient = sum(1 for f in doc["failed"] if f.get("transient") or f.get("error_class") == "unknown")
    if state in ("finished", "interrupted", "stopped") and transient:
        return f"'{cmd(f'retry {b} --all-failed')}' re-queues the {plural(transient, 'retryable failure')}"
    if c["total"] > 1 and c["failed"] == c["total"] and all("file not found" in str(f.get("message")) for f in doc["failed"]):
        return ("no file of the list was found: relative video_path values resolve against the list file's folder; "
                f"fix the list and run it again (or fix the files and '{cmd(f'retry {b} --all-failed --include-permanent')}')")
    if state in ("finished", "interrupted", "stopped") and c["failed"]:
        return (f"fix the inputs above, then '{cmd(f'retry {b} --video KEY')}' "
                "(or --all-failed --include-permanent)")
    return None


def run_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine import api

    rows = api.list_batch_summaries(ctx.workspace)
    if args.json:
        print(json.dumps(rows, indent=2, sort_keys=True))
        return EXIT_OK
    if not rows:
        print(f"no batches in {ctx.workspace}")
        return EXIT_OK
    print(f"{'BATCH':<28} {'STATE':<12} {'TOTAL':>6} {'DONE':>6} {'SKIP':>6} {'FAIL':>6}  UPDATED")
    for r in rows:
        c = r["counts"]
        print(f"{r['batch_id']:<28} {r['state']:<12} {c.get('total', 0):>6} {c.get('done', 0):>6} "
              f"{c.get('skipped', 0):>6} {c.get('failed', 0):>6}  {_ago(r['updated_at'])}")
    return EXIT_OK
