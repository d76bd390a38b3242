"""``vidops report RUN_DIR``: re-print a trained run's stored report (report.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.cli import CliContext, UsageError


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "report", help="print the stored report of a trained model run",
        description="Print report.md of a run written by 'vidops train': split sizes, per-target metrics on "
                    "validation and test next to the median and log-linear baselines, by-age buckets and the "
                    "confidence calibration. --json prints metrics.json. Exit 2 when the run is missing or damaged.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="artifacts/<run_id> directory (or a run id in the workspace)")
    p.add_argument("--json", action="store_true", help="print metrics.json instead")
    p.set_defaults(handler=run)


def resolve_run_dir(value: str, ctx: CliContext) -> Path:
    path = Path(value)
    if not path.is_dir():
        artifacts = Path(ctx.settings.model.artifacts_dir) if ctx.settings.model.artifacts_dir else ctx.workspace / "artifacts"
        path = artifacts / value
    if not (path / "metrics.json").is_file():
        raise UsageError(f"{value}: not a trained model run (no metrics.json)")
    return path


def load_model_run(value: str, ctx: CliContext) -> Any:
    """``--model`` -> the loaded run; a missing or damaged run is a usage error naming the file."""
    from engine.model.artifacts import RunLoadError, load_run

    try:
        return load_run(resolve_run_dir(value, ctx))
    except RunLoadError as exc:
        raise UsageError(str(exc)) from None


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    path = resolve_run_dir(args.run_dir, ctx)
    name = "metrics.json" if args.json else "report.md"
    try:
        text = (path / name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path / name}: cannot read ({exc}); the run is incomplete, retrain it") from None
    sys.stdout.write(text)
    return 0
