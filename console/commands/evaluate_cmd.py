"""``vidops evaluate --model RUN_DIR --dataset DIR [--since DATE] [--json]``: score a trained model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from console.cli import CliContext, UsageError
from console.commands.report_cmd import load_model_run


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "evaluate", help="score a trained model on a dataset, next to its baselines",
        description="Score a trained run on a dataset built by 'vidops dataset build' (every row with a target, "
                    "or those with snapshot 1 at or after --since), with the run's own feature spec, calibration "
                    "and baselines. Exit code 2 when the dataset lacks the model's columns or no row is left.")
    p.add_argument("--model", required=True, metavar="RUN_DIR", help="trained run directory (or run id)")
    p.add_argument("--dataset", required=True, metavar="DIR", help="dataset directory")
    p.add_argument("--since", metavar="DATE", help="only rows with snapshot 1 at or after DATE (ISO 8601, e.g. 2018-03-01 or "
                                                         "2018-03-01T14:00:00Z; naive = UTC)")
    p.add_argument("--json", action="store_true", help="metrics[metric][horizon] = {mae, rmse, spearman, n, baseline_mae, coverage80}")
    p.set_defaults(handler=run)


def _training_rows_warning(model: Any, result: dict[str, Any], since: str | None) -> str | None:
    """Scoring the run's own training dataset counts rows the model was fitted on: say so, and
    (time split) from which date the rows are held out."""
    from engine.model.evaluate import parse_since

    trained_on = str(model.config.get("run", {}).get("dataset_content_hash") or "")
    if not trained_on or trained_on != result["dataset_content_hash"]:
        return None
    split = model.metrics.get("split") or {}
    cut2 = split.get("cut2") if split.get("method") == "time" else None
    if cut2 and since is not None and parse_since(since) >= parse_since(str(cut2)):
        return None
    hint = f"; only rows with --since {cut2} or later were held out (the test split)" if cut2 else ""
    return (f"{result['dataset']} is the dataset model {model.run_id} was trained on: its training and "
            f"validation rows are scored too, so these figures are optimistic{hint}")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.model import report
    from engine.model.artifacts import RunLoadError
    from engine.model.data import DatasetError
    from engine.model.evaluate import SPLIT_NAME, EvaluationError, as_json, evaluate

    model = load_model_run(args.model, ctx)
    if not (Path(args.dataset) / "dataset.parquet").is_file():
        raise UsageError(f"--dataset {args.dataset}: no dataset.parquet there")
    try:
        result = evaluate(model, args.dataset, args.since)
    except (EvaluationError, RunLoadError) as exc:
        raise UsageError(str(exc)) from None
    except (FileNotFoundError, DatasetError) as exc:  # load_dataset: a missing, damaged or empty dataset
        raise UsageError(f"--dataset: {exc}") from None
    warning = _training_rows_warning(model, result, args.since)
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(as_json(result), sort_keys=True, indent=2))
    else:
        print(f"model {model.run_id} on {result['dataset']}" + (f" since {args.since}" if args.since else ""))
        print(report.render_table(result, splits=(SPLIT_NAME,)))
    return 0
