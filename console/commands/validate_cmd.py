"""``vidops validate RUN_DIR``: check a run directory's artifacts (exit 0 valid, 1 problems)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from console.cli import EXIT_FAILURES, EXIT_OK, CliContext, UsageError
from engine.text import plural


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "validate", help="validate the artifacts of one run directory",
        description="Check RUN_DIR (manifest.json + NPZs): a finished run, schema, declared arrays, NaNs, "
                    "physical ranges.",
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run directory (holds manifest.json)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.extractors.validate import validate_run

    if not os.path.isdir(args.run_dir):
        raise UsageError(f"validate: no such directory: {args.run_dir}")
    problems = validate_run(args.run_dir, finished=True)
    for p in problems:
        print(p)
    if problems:
        print(f"{args.run_dir}: {plural(len(problems), 'problem')}")
        return EXIT_FAILURES
    print(f"{args.run_dir}: valid")
    return EXIT_OK
