"""Benchmark: `vidops status --json` on a synthetic 100,000-video batch log.

Writes a batch whose state.jsonl holds a realistic event mix per video (queued, started, two
throttled progress events, one component, succeeded; 2 % failures), then times the real CLI in a
subprocess and reports its peak RSS. Target: < 2 s.

    .venv/bin/python bench/status_scale.py [--videos 100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from engine.batch import create_batch
from engine.batch_input import VideoRow
from engine.config import load_settings
from engine.events import EventWriter


def build(ws: Path, n: int) -> str:
    settings = load_settings(None)
    rows = [VideoRow(i + 1, f"/data/v{i}.mp4", "yt", f"v{i:06d}") for i in range(n)]
    paths = create_batch(ws, settings, rows, "synthetic.csv", "0" * 16, "big")
    with EventWriter(paths.state, fsync_interval_s=3600) as w:
        w.emit("batch_started", batch_id="big", total=n, config_hash="0" * 16, workers=8)
        for r in rows:
            w.emit("video_queued", key=r.key, platform_id="yt", video_id=r.video_id)
        for i, r in enumerate(rows):
            w.emit("video_started", key=r.key, worker=i % 8, pid=1000 + i % 8, run_id="r", attempt=1, batch_size_scale=1.0)
            w.emit("video_progress", key=r.key, stage="decode", fraction=0.3)
            w.emit("video_progress", key=r.key, stage="cut_detection", fraction=0.8)
            w.emit("video_component_done", key=r.key, component="probe", status="done", wall_s=0.01, reason=None)
            if i % 50 == 0:
                w.emit("video_failed", key=r.key, error_class="undecodable", transient=False, message="bad", attempt=1, final=True)
            else:
                w.emit("video_succeeded", key=r.key, run_id="r", wall_s=1.5, components={"probe": "done"})
            if i % 1000 == 0:
                w.emit("metrics", cpu_pct=50.0, cpu_per_core=[50.0] * 8, ram_used_pct=40.0, disk_free_gb=100.0, workers={}, gpus=[])
        w.emit("batch_finished", state="finished", counts={})
    return paths.batch_id


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        t0 = time.perf_counter()
        batch = build(ws, args.videos)
        size = (ws / "batches" / batch / "state.jsonl").stat().st_size
        print(f"built {args.videos} videos, log {size / 2**20:.1f} MiB in {time.perf_counter() - t0:.1f} s")
        cmd = [sys.executable, "-m", "console.cli", "--workspace", str(ws), "status", batch, "--json"]
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            out = subprocess.run(cmd, capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - t0)
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        counts = json.loads(out.stdout)["counts"]
        print(f"vidops status --json: best {min(times):.2f} s, median {sorted(times)[1]:.2f} s "
              f"(target < 2 s); peak RSS {rss_mb:.0f} MiB; counts {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
