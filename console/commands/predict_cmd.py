"""``vidops predict``: predictions for one video (``--video`` or ``--run``) or a whole batch.

Single: ``vidops predict --model RUN_DIR (--video FILE | --run RESULT_RUN_DIR) --snapshot FILE_OR_JSON [--out FILE]``.
``--video`` extracts features into the workspace result store first (reusing a complete run
with the same run_id). Batch: ``vidops predict --model RUN_DIR --batch BATCH_ID --snapshots FILE
--out predictions.jsonl``. Output JSON is deterministic (see docs/model.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from console.cli import CliContext, UsageError
from console.commands.report_cmd import load_model_run
from engine.text import plural


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "predict", help="predict views/likes/comments growth at every horizon",
        description="Predict the growth of views, likes and comments at every trained horizon from a video's "
                    "first snapshot and its extracted features; prints one deterministic JSON document "
                    "(see docs/model.md). Single: --model RUN (--video FILE | --run RESULT_RUN_DIR) --snapshot "
                    "'{\"video_id\": \"abc\", \"snapshot_time\": \"2018-03-20T14:00:00Z\", \"views\": 250000, "
                    "\"likes\": 12000, \"comments\": 900}'. Batch: --model RUN --batch ID --snapshots FILE --out "
                    "predictions.jsonl. Exit code 2 for bad input (invalid snapshot, unknown or damaged run).")
    p.add_argument("--model", required=True, metavar="RUN_DIR", help="trained run directory (or run id)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video", metavar="FILE", help="video file: extract features (or reuse the stored run), then predict")
    src.add_argument("--run", metavar="RESULT_RUN_DIR", help="an existing result-store run directory of the video")
    src.add_argument("--batch", metavar="BATCH_ID", help="predict every processed video of a batch")
    p.add_argument("--snapshot", metavar="FILE_OR_JSON", help="snapshot-1 object, inline JSON or a .json file: snapshot_time (ISO 8601), views, likes, "
                        "comments required; optional video_id, platform_id, published_at, dislikes, title, tags, "
                        "category_id, language, comments_disabled, ratings_disabled")
    p.add_argument("--snapshots", metavar="FILE", help="with --batch: JSONL or JSON list of snapshot-1 objects with video_id")
    p.add_argument("--out", metavar="FILE", help="write here (atomically) instead of stdout")
    p.set_defaults(handler=run)


def _result_store(ctx: CliContext) -> Path:
    return Path(ctx.settings.paths.result_store) if ctx.settings.paths.result_store else ctx.workspace / "result_store"


def _extract(video: Path, snapshot: dict[str, Any], model: Any, ctx: CliContext) -> tuple[str, str, str]:
    """Run (or reuse) the pipeline for ``video``; returns (run_dir, run_id, platform_id)."""
    from engine.batch_input import derive_video_id
    from engine.model.predict import check_extractor_hash
    from engine.pipeline import process_video, settings_hash
    from engine.store import ResultStore, fingerprint, make_run_id

    if not video.is_file():
        raise UsageError(f"--video {video}: no such file")
    cfg_hash = settings_hash(ctx.settings)
    check_extractor_hash(model, cfg_hash, "the current extractor config")
    platform_id = str(snapshot.get("platform_id") or "local")
    video_id = str(snapshot.get("video_id") or derive_video_id(str(video)))
    fp = fingerprint(video)
    run_id = make_run_id(cfg_hash, fp)
    store = ResultStore(_result_store(ctx))
    run_dir = store.run_dir(platform_id, video_id, run_id)
    if not store.is_complete(platform_id, video_id, run_id):
        task = {"platform_id": platform_id, "video_id": video_id, "video_path": str(video.resolve()), "fingerprint": fp}
        run_dir.start(task, run_id, cfg_hash)
        process_video(task, ctx.settings, run_dir, progress=lambda _c, _f: None, result_store_root=str(store.root))
    return str(run_dir.path), run_id, platform_id


def _write(text: str, out: str | None) -> None:
    if out:
        from engine.atomic import atomic_write_text

        try:
            atomic_write_text(out, text)
        except OSError as exc:  # a file on the way, a missing permission: the user's path, not a bug
            raise UsageError(f"--out {out}: cannot write ({exc})") from None
    else:
        sys.stdout.write(text)


def _batch(args: argparse.Namespace, ctx: CliContext, model: Any) -> int:
    from engine.model.batch_predict import BatchInputError, predict_batch

    if not args.snapshots or not args.out:
        raise UsageError("--batch needs --snapshots FILE and --out FILE")
    root = ctx.workspace / "batches" / args.batch
    if not (root / "videos.jsonl").is_file():
        raise UsageError(f"--batch {args.batch}: no {root / 'videos.jsonl'}")
    try:
        result = predict_batch(model, root, args.snapshots, _result_store(ctx))
    except BatchInputError as exc:
        raise UsageError(str(exc)) from None
    _write("".join(line + "\n" for line in result.lines), args.out)
    print(f"{plural(len(result.lines), 'prediction')} -> {args.out}; skipped {len(result.skipped)}", file=sys.stderr)
    for key, reason in sorted(result.skipped.items())[:20]:
        print(f"  skipped {key}: {reason}", file=sys.stderr)
    return 0


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.model import predict
    from engine.model.artifacts import RunLoadError
    from engine.store import load_manifest

    if args.batch and args.snapshot:
        raise UsageError("--batch reads its snapshots from --snapshots FILE, not --snapshot")
    if not args.batch and args.snapshots:
        raise UsageError("--snapshots is for --batch; with --video/--run give one --snapshot FILE_OR_JSON")
    if args.out and Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a directory; give a file name")
    model = load_model_run(args.model, ctx)
    try:
        if args.batch:
            return _batch(args, ctx, model)
        if not args.snapshot:
            raise UsageError("--snapshot FILE_OR_JSON is required with --video/--run")
        try:
            snapshot = predict.load_snapshot(args.snapshot)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--snapshot: {exc}") from None
        if args.video:
            run_dir, run_id, platform_id = _extract(Path(args.video), snapshot, model, ctx)
        else:
            manifest = load_manifest(args.run)
            if not manifest:
                raise UsageError(f"--run {args.run}: no readable manifest.json there (not a result-store run directory)")
            if manifest.get("status") != "complete":
                raise UsageError(f"--run {args.run}: run is not complete (status {manifest.get('status')!r})")
            predict.check_extractor_hash(model, manifest.get("config_hash"), f"run {args.run}")
            run_video, snap_video = manifest.get("video_id"), snapshot.get("video_id")
            if run_video and snap_video and str(run_video) != str(snap_video):  # another video's features
                raise UsageError(f"--run {args.run} holds video {run_video!r} but the snapshot is for "
                                 f"{snap_video!r}; give that video's run directory or fix the snapshot's video_id")
            run_dir, run_id = args.run, str(manifest.get("run_id", Path(args.run).name))
            platform_id = str(snapshot.get("platform_id") or manifest.get("platform_id") or "")
            snapshot.setdefault("video_id", manifest.get("video_id"))
        doc = predict.predict_one(model, snapshot, run_dir, run_id, platform_id or None)
    except predict.InvalidSnapshot as exc:
        raise UsageError(f"--snapshot: {exc}") from None
    except (predict.IncompatibleInput, RunLoadError) as exc:
        raise UsageError(str(exc)) from None
    _write(predict.render(doc) + "\n", args.out)
    return 0
