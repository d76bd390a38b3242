"""``vidops demo`` and ``vidops pipeline``: the whole system in one command.

extract → dataset → train → predict, each stage skipped when its outputs are complete for the
same inputs and config. Headless with ``--no-ui`` (or when not on a terminal); otherwise the
pipeline runs as a detached job and the console follows the batch, the dataset build and the
training live.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from console.cli import EXIT_FAILURES, EXIT_INTERNAL, EXIT_OK, CliContext, UsageError
from engine.text import display_path, plural

DATA_NOTE = (
    "Data used: the extraction runs on the bundled CC-BY clips (examples/media); the dataset and the model "
    "use the bundled CC0 sample of real YouTube trending snapshots (examples/trending_sample), whose videos "
    "are not the clips; the prediction combines the clip's extracted features with a hypothetical "
    "snapshot 1 (examples/snapshot1.json), since the clips have no snapshot history of their own. "
    "A model trained without video features ignores the clip's features (features_used shows what it used)."
)


def register(sub: Any) -> None:
    d = sub.add_parser("demo", help="run the whole system on bundled real data (clips + trending snapshots)",
                       description="Extract features from the bundled clips, build a dataset from the bundled "
                                   "trending-snapshot sample, train the CatBoost baseline and predict for one clip. "
                                   "Re-running skips completed stages.")
    d.add_argument("--no-ui", action="store_true", help="headless in this terminal")
    d.set_defaults(handler=run_demo)
    p = sub.add_parser("pipeline", help="extract → dataset → train (→ predict) on your own data, resumably",
                       description="Each stage is skipped when its outputs are complete for the same inputs and config.")
    p.add_argument("--videos", metavar="LIST", help="batch list of videos (CSV/JSON/JSONL); omit to skip extraction")
    p.add_argument("--snapshots", metavar="FILE", required=True, help="snapshot history (CSV/CSV.gz/parquet/JSONL)")
    p.add_argument("--format", default="generic", help="snapshot format adapter: generic or trending (default: %(default)s)")
    p.add_argument("--channels", metavar="FILE", help="optional channel index")
    p.add_argument("--required-horizons", metavar="LIST", help="e.g. 14,21 or none (default: dataset.required_horizons_days)")
    p.add_argument("--name", default="default", help="pipeline name (outputs under <workspace>/pipelines/NAME; default: %(default)s)")
    p.add_argument("--predict", nargs=2, action="append", default=[], metavar=("VIDEO_KEY", "SNAPSHOT"),
                   help="after training, predict for a video of the batch (VIDEO_KEY = platform_id__video_id, e.g. "
                        "local__clip1; with --videos it must name a video that finished) with a snapshot-1 JSON "
                        "(repeatable)")
    p.add_argument("--no-ui", action="store_true", help="headless in this terminal")
    p.set_defaults(handler=run_pipeline)


class StageDisplay:
    """Headless lines for pipeline stages, dataset build and training progress."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, ev: dict[str, Any]) -> None:
        t = ev.get("type")
        if t == "pipeline_stage":
            path = ev.get("out") or ev.get("run_dir")
            extra = ev.get("reason") or (display_path(path) if path else "") or ev.get("batch_id") or ""
            print(f"== {ev['stage']}: {ev['status']}" + (f" ({extra})" if extra else ""), flush=True)
        elif t == "dataset_progress" or t == "train_progress":
            now = time.monotonic()
            if now - self._last >= 2.0:
                self._last = now
                if t == "dataset_progress":
                    print(f"   dataset {ev.get('stage')}: {ev.get('rows_done')}/{ev.get('rows_total')}", flush=True)
                else:
                    print(f"   train {ev.get('target')}: iteration {ev.get('iteration')}, "
                          f"train {ev.get('train_loss')}, validation {ev.get('val_loss')}", flush=True)
        elif t == "dataset_finished":
            print(f"   dataset: {plural(int(ev.get('rows') or 0), 'row')} in {ev.get('duration_s')} s", flush=True)
            for warning in ev.get("warnings") or ():
                print(f"   dataset: warning: {warning}", flush=True)
        elif t == "train_target_done":
            print(f"   trained {ev.get('target')}", flush=True)
        elif t == "train_target_skipped":
            print(f"   not trained {ev.get('target')}: {ev.get('reason')}", flush=True)


def _run(ctx: CliContext, spec: Any, no_ui: bool, demo: bool) -> int:
    from console.headless import PlainRenderer, RichRenderer
    from engine.workflow import Pipeline

    if spec.videos and ctx.settings.pool.backend == "ray":  # as 'vidops run': refused before a batch exists
        from engine.backends import check_available

        check_available("ray")
    ui = not no_ui and sys.stdout.isatty() and sys.stdin.isatty()
    if ui:
        return _run_in_console(ctx, spec, demo)
    from engine import api
    from engine.dataset.adapters import DatasetInputError
    from engine.model.data import DatasetError
    from engine.model.device import DeviceUnavailable
    from engine.model.predict import IncompatibleInput, InvalidSnapshot
    from engine.model.train import NothingToTrain
    from engine.workflow import UnknownPredictKey

    renderer = RichRenderer() if sys.stdout.isatty() else PlainRenderer(workspace=ctx.workspace)
    try:
        summary = Pipeline(ctx.workspace, ctx.settings, spec, StageDisplay(), [renderer]).run()
    except (DatasetInputError, DatasetError, NothingToTrain, InvalidSnapshot, IncompatibleInput,
            DeviceUnavailable, UnknownPredictKey, api.WorkspaceError) as exc:
        raise UsageError(str(exc)) from None  # the input data, not the code: say what is wrong, exit 2
    except (api.BatchAborted, api.SupervisorFailed) as exc:  # disk full, or a daemon dead at start: exit 3
        print(f"vidops: {exc}", file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        renderer.close()
    for path in summary.get("predictions", []):
        print(f"\nprediction ({display_path(path)}):")
        print(Path(path).read_text().rstrip())
    # One form for every path (they mixed the workspace as given with resolved ones): relative to
    # the current directory when under it, else absolute.
    print("\nwritten:")
    batch_id = summary.get("batch_id")
    ws = Path(ctx.workspace)
    print(f"  batch       {display_path(ws / 'batches' / batch_id)}" if batch_id else "  batch       none (no --videos)")
    print(f"  features    {display_path(ws / 'result_store')}")
    print(f"  dataset     {display_path(summary['dataset'])}")
    print(f"  model       {display_path(summary['model'])}")
    print(f"  summary     {display_path(ws / 'pipelines' / spec.name / 'summary.json')}")
    if demo:
        print("\n" + DATA_NOTE)
    print(f"\ndone in {summary['wall_s']} s")
    return EXIT_OK if summary["stages"].get("extract", {}).get("exit_code", 0) in (0, None) else EXIT_FAILURES


def _run_in_console(ctx: CliContext, spec: Any, demo: bool) -> int:
    from dataclasses import asdict

    from console.commands.console_cmd import open_console
    from engine.batch import batches_dir
    from engine.jobs import start_job
    from engine.workflow import Pipeline

    batch_id = Pipeline(ctx.workspace, ctx.settings, spec).batch_id()
    params: dict[str, Any] = {"demo": True} if demo else {"spec": asdict(spec)}
    start_job(ctx.workspace, "pipeline", params, str(ctx.config_path) if ctx.config_path else None)
    if batch_id:
        deadline = time.monotonic() + 30
        while not (batches_dir(ctx.workspace) / batch_id / "state.jsonl").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    return open_console(ctx, batch_id)


def run_demo(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.workflow import demo_spec

    try:
        spec = demo_spec()
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    return _run(ctx, spec, args.no_ui, demo=True)


def run_pipeline(args: argparse.Namespace, ctx: CliContext) -> int:
    from console.commands.dataset_cmd import parse_horizons
    from engine.dataset.settings import SNAPSHOT_FORMATS
    from engine.model.predict import load_snapshot
    from engine.workflow import PipelineSpec

    for what, path in (("--videos", args.videos), ("--snapshots", args.snapshots), ("--channels", args.channels)):
        if path and not Path(path).is_file():
            raise UsageError(f"{what} {path}: no such file")
    if args.format not in SNAPSHOT_FORMATS:
        raise UsageError(f"unknown --format {args.format!r} (known: {', '.join(SNAPSHOT_FORMATS)})")
    required = parse_horizons(args.required_horizons)
    unknown = sorted(set(required or []) - set(ctx.settings.dataset.horizons_days))
    if unknown:
        raise UsageError(f"--required-horizons {args.required_horizons}: {unknown} not among [dataset] horizons_days "
                         f"{list(ctx.settings.dataset.horizons_days)}")
    predict = []
    for key, snap in args.predict:  # checked now, not after the extraction and the training
        try:
            snapshot = load_snapshot(snap)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--predict {key} {snap}: {exc}") from None
        predict.append({"video_key": key, "snapshot": snapshot})
    spec = PipelineSpec(name=args.name, snapshots=str(Path(args.snapshots).resolve()), fmt=args.format,
                        videos=str(Path(args.videos).resolve()) if args.videos else None,
                        channels=str(Path(args.channels).resolve()) if args.channels else None,
                        required_horizons=required, predict=predict)
    return _run(ctx, spec, args.no_ui, demo=False)
