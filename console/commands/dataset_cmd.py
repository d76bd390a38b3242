"""``vidops dataset build``: build the training table from snapshots (+ result store, + channels).

Events go to ``<workspace>/jobs/<job_id>/events.jsonl`` (types ``dataset_started``,
``dataset_progress``, ``dataset_finished``, ``dataset_failed``; see docs/dataset.md) and a
headless progress display on stderr (one line per stage when stderr is not a terminal).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from console.cli import CliContext, UsageError
from engine.dataset.settings import SNAPSHOT_FORMATS  # light: pandas loads only when a command runs
from engine.text import plural


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("dataset", help="build the training dataset from snapshot tables",
                                   description="Build the training dataset (see docs/dataset.md).")
    sub = parser.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="snapshots (+ result store, + channel index) -> DIR/dataset.parquet")
    build.add_argument("--snapshots", required=True, metavar="FILE", help="snapshot table: .csv, .csv.gz, .parquet, .jsonl, .jsonl.gz or .ndjson (UTF-8)")
    build.add_argument("--format", default="generic", metavar="NAME",
                       help=f"snapshot format: {', '.join(SNAPSHOT_FORMATS)} (default: generic)")
    build.add_argument("--channels", metavar="FILE", help="channel index (CSV/parquet with channel_id, or the API cache .json)")
    build.add_argument("--result-store", metavar="DIR", help="result store (default: paths.result_store of the config, else <workspace>/result_store)")
    build.add_argument("--out", required=True, metavar="DIR", help="output directory")
    build.add_argument("--csv", action="store_true", help="also write DIR/dataset.csv")
    build.add_argument("--required-horizons", metavar="LIST",
                       help="comma-separated days (e.g. 14,21) or 'none'; overrides [dataset] required_horizons_days")
    build.set_defaults(handler=run)
    fetch = sub.add_parser("fetch-channels", help="fill a channel-index cache (.json) from the YouTube Data API v3")
    fetch.add_argument("--snapshots", required=True, metavar="FILE", help="snapshot table whose video ids to look up")
    fetch.add_argument("--format", default="generic", metavar="NAME", help="snapshot format (as for build)")
    fetch.add_argument("--index", required=True, metavar="FILE.json", help="cache file, read and rewritten atomically")
    fetch.set_defaults(handler=run_fetch)


def parse_horizons(text: str | None) -> list[int] | None:
    """'14,21' -> [14, 21]; 'none' -> []; None -> None (use the config)."""
    if text is None:
        return None
    if text.strip().lower() in ("none", ""):
        return []
    try:
        values = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise UsageError(f"--required-horizons: expected comma-separated whole days or 'none', got {text!r}") from None
    if any(v <= 0 for v in values):
        raise UsageError(f"--required-horizons: days must be positive, got {text!r}")
    return values


class _Progress:
    """Headless progress on a stream: a rewritten line on a terminal, plain lines otherwise."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last_stage: str | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "dataset_progress":
            stage, done, total = event["stage"], event["rows_done"], event["rows_total"]
            line = f"dataset: {stage:<9} {done}/{total}"
            if self.tty:
                self.stream.write("\r\x1b[2K" + line)
            elif stage != self._last_stage or (total and done == total):
                self.stream.write(line + "\n")
            self._last_stage = stage
        elif kind == "dataset_finished":
            self.stream.write(("\n" if self.tty else "") + f"dataset: {plural(event['rows'], 'row')} in "
                              f"{event['duration_s']:.1f} s -> {event['out']}\n")
            for warning in event.get("warnings") or ():
                self.stream.write(f"dataset: warning: {warning}\n")
        elif kind == "dataset_failed":
            self.stream.write(("\n" if self.tty else "") + f"dataset: failed: {event['message']}\n")
        self.stream.flush()


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    required = parse_horizons(args.required_horizons)
    from engine.dataset.adapters import DatasetInputError
    from engine.dataset.builder import BuildInputs, build_dataset
    from engine.events import EventWriter

    if args.format not in SNAPSHOT_FORMATS:
        raise UsageError(f"unknown --format {args.format!r} (known: {', '.join(SNAPSHOT_FORMATS)})")
    if args.result_store and not Path(args.result_store).is_dir():
        # only the default store may be absent: a mistyped one would silently drop every video feature
        raise UsageError(f"--result-store {args.result_store}: no such directory")
    store = args.result_store or ctx.settings.paths.result_store or str(ctx.workspace / "result_store")
    inputs = BuildInputs(snapshots=args.snapshots, out=args.out, fmt=args.format, channels=args.channels,
                         result_store=store, csv=args.csv, required_horizons=required)
    job_id = "dataset-" + time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + f"-{int(time.time_ns() % 1_000_000):06d}"
    progress = _Progress(sys.stderr)
    with EventWriter(Path(ctx.workspace) / "jobs" / job_id / "events.jsonl") as writer:
        def on_event(event: dict[str, Any]) -> None:
            fields = {k: v for k, v in event.items() if k != "type"}
            writer.emit(str(event["type"]), job_id=job_id, **fields)
            progress(event)

        try:
            build_dataset(ctx.settings, inputs, on_event)
        except DatasetInputError as exc:
            raise UsageError(str(exc)) from None
    return 0


def run_fetch(args: argparse.Namespace, ctx: CliContext) -> int:
    """Look up the channels of every video of ``--snapshots``; key from the environment."""
    from engine.dataset.adapters import DatasetInputError, SkipLog, load_snapshots
    from engine.dataset.youtube_api import YouTubeApiError, YouTubeClient, enrich_index

    if not args.index.endswith(".json"):
        raise UsageError("--index: the API cache is a .json file")
    try:
        snaps = load_snapshots(args.snapshots, args.format, ctx.settings.dataset, SkipLog())
        client = YouTubeClient.from_settings(ctx.settings.dataset)
        index = enrich_index(client, sorted(set(snaps["video_id"])), args.index)
    except (DatasetInputError, YouTubeApiError) as exc:
        raise UsageError(str(exc)) from None
    print(f"{plural(len(index.videos), 'video')}, {plural(len(index.channels), 'channel')} in {args.index} "
          f"({plural(client.requests_made, 'request')})")
    return 0
