"""``vidops extract VIDEO``: run probe + feature extraction on one file and summarise it."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from console.cli import EXIT_FAILURES, EXIT_OK, CliContext, UsageError


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "extract", help="extract features from one video file",
        description="Run the probe and the enabled feature modules on VIDEO (one worker, this process) and "
                    "print a summary; the run directory (manifest.json + NPZs) goes to --out.",
    )
    p.add_argument("video", metavar="VIDEO", help="video file")
    p.add_argument("--out", metavar="DIR", help="directory for the run (default: a temporary directory, removed)")
    p.add_argument("--only", metavar="MODULES", help="comma-separated modules to run instead of extract.modules")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.set_defaults(handler=run)


def _result(manifest: dict[str, Any], wall_s: float, run_dir: Path | None) -> dict[str, Any]:
    comps: dict[str, Any] = {}
    for name, c in manifest.get("components", {}).items():
        entry = {"status": c.get("status"), "wall_s": c.get("wall_s"), **(c.get("summary") or {})}
        if c.get("reason"):
            entry["reason"] = c["reason"]
        comps[name] = entry
    return {"video": manifest.get("source", {}).get("path"), "wall_s": round(wall_s, 4),
            "run_dir": str(run_dir) if run_dir else None, "status": manifest.get("status"),
            "video_info": manifest.get("video"), "components": comps}


def _print_summary(res: dict[str, Any]) -> None:
    # the decoder's facts; with no module enabled only the probe ran, so its summary
    probe = res["components"].get("probe") or {}
    v = res.get("video_info") or {**probe, "source_fps": probe.get("fps")}
    print(f"{res['video']}: {v.get('width')}x{v.get('height')} {v.get('source_fps')} fps, "
          f"{v.get('frame_count')} frames, {v.get('duration_s')} s; extraction {res['wall_s']:.2f} s")
    for name, c in res["components"].items():
        head = f"  {name:22s} {c['status']:8s} {c.get('wall_s') or 0:7.3f} s"
        if c["status"] != "done":
            print(f"{head}  ({c.get('reason', '')})")
            continue
        keys = [k for k, val in c.items() if k not in ("status", "wall_s") and isinstance(val, int | float | str | list)]
        detail = ", ".join(f"{k}={c[k]}" for k in keys[:6])
        print(f"{head}  {detail[:160]}")


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    from engine.errors import VidopsError
    from engine.pipeline import process_video, settings_hash
    from engine.store import RunDir, fingerprint, make_run_id

    path = os.path.abspath(args.video)
    if not os.path.isfile(path):
        raise UsageError(f"extract: no such file: {args.video}")
    if args.only:
        mods = [m.strip() for m in args.only.split(",") if m.strip()]
        ctx = ctx.with_overrides({"extract.modules": mods})
    settings = ctx.settings
    chash = settings_hash(settings)
    task = {"video_path": path, "platform_id": "local", "video_id": Path(path).stem, "fingerprint": fingerprint(path)}
    tmp = None
    if args.out:
        root = Path(args.out).resolve()  # the printed run_dir must work from any directory
    else:
        tmp = tempfile.TemporaryDirectory(prefix="vidops-extract-")
        root = Path(tmp.name)
    try:
        run_dir = RunDir(root / task["platform_id"] / task["video_id"] / make_run_id(chash, task["fingerprint"]))
        run_dir.start(task, run_dir.path.name, chash)
        t0 = time.perf_counter()
        try:
            manifest = process_video(task, settings, run_dir, lambda stage, frac: None, result_store_root=str(root))
        except VidopsError as exc:
            # the video failed permanently (as a batch would count it): exit 1 in both output modes;
            # 2 stays for usage errors such as a path that names no file
            if args.json:
                print(json.dumps({"video": path, "error_class": exc.error_class, "error": str(exc)}))
            else:
                print(f"vidops: extract: {args.video}: {exc.error_class}: {exc}", file=sys.stderr)
            return EXIT_FAILURES
        res = _result(manifest, time.perf_counter() - t0, run_dir.path if args.out else None)
    finally:
        if tmp is not None:
            tmp.cleanup()
    if args.json:
        print(json.dumps(res, default=str))
    else:
        _print_summary(res)
    return EXIT_OK
