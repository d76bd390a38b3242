"""``vidops train --dataset DIR [--out DIR]``: train the popularity model, print metrics.

Progress events go to ``<workspace>/jobs/<job_id>/events.jsonl`` (types ``train_started``,
``train_progress``, ``train_target_done``, ``train_finished``, ``train_failed``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from console.cli import CliContext, UsageError

JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("train", help="train one CatBoost model per metric x horizon on a built dataset",
                              description="Train the popularity model on DIR (dataset.parquet + dataset_meta.json) "
                                          "and write artifacts/<run_id>/ in the workspace.")
    p.add_argument("--dataset", required=True, metavar="DIR", help="dataset directory built by 'vidops dataset build'")
    p.add_argument("--out", metavar="DIR", help="run directory (default: <workspace>/artifacts/<run_id>); an existing run "
                                                 "there is replaced only when training succeeds")
    p.add_argument("--job-id", metavar="ID", help="job id of the event log (default: train-<run_id>)")
    p.add_argument("--json", action="store_true", help="print metrics.json instead of the table")
    p.set_defaults(handler=run)


def new_run_id(settings_dict: dict[str, Any], dataset_dir: Path) -> str:
    from engine.model.data import DatasetError

    meta_path = dataset_dir / "dataset_meta.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    except (OSError, ValueError) as exc:  # the same words load_dataset would use, before any run dir exists
        why = f"{meta_path}: not valid JSON ({exc}); rebuild the dataset with 'vidops dataset build'"
        raise DatasetError(why) from None
    content = meta.get("content_hash", "") if isinstance(meta, dict) else ""
    digest = hashlib.sha256(json.dumps([settings_dict, content], sort_keys=True, default=str).encode()).hexdigest()[:8]
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + digest


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.events import EventWriter
    from engine.model import report
    from engine.model.device import DeviceUnavailable
    from engine.model.train import train

    dataset = Path(args.dataset)
    if not (dataset / "dataset.parquet").is_file() or not (dataset / "dataset_meta.json").is_file():
        raise UsageError(f"--dataset {dataset}: no dataset.parquet + dataset_meta.json there")
    settings = ctx.settings.model
    if args.out:
        run_dir = Path(os.path.abspath(args.out))  # "." would otherwise give an empty run id
        run_id = run_dir.name
    else:
        try:
            run_id = new_run_id(asdict(settings), dataset)
        except ValueError as exc:
            raise UsageError(f"train: {exc}") from None
        root = Path(settings.artifacts_dir) if settings.artifacts_dir else ctx.workspace / "artifacts"
        run_dir = root / run_id
    if args.job_id is not None and not JOB_ID.fullmatch(args.job_id):
        raise UsageError(f"--job-id {args.job_id!r}: use letters, digits, '.', '_' and '-' "
                         "(it names a directory under <workspace>/jobs/)")
    job_id = args.job_id or f"train-{run_id}"
    events_path = ctx.workspace / "jobs" / job_id / "events.jsonl"
    with EventWriter(events_path) as writer:
        def on_event(event: dict[str, Any]) -> None:
            fields = dict(event)
            writer.emit(fields.pop("type"), job_id=job_id, **fields)

        try:
            result = train(dataset, settings, run_dir, run_id=run_id, on_event=on_event)
        except (FileNotFoundError, FileExistsError, ValueError, DeviceUnavailable) as exc:
            raise UsageError(f"train: {exc}") from None
    for warning in report.warnings_of(result.metrics):
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.metrics, sort_keys=True, indent=2))
    else:
        print(report.render_table(result.metrics))
        if result.metrics.get("skipped"):
            print("skipped: " + ", ".join(f"{k} ({v})" for k, v in result.metrics["skipped"].items()))
        print(f"\ntrained in {result.seconds:.1f} s; artifacts: {run_dir}")
        print(f"events: {events_path}")
    return 0
