"""Benchmark: the supervisor's own overhead on a batch of thousands of tiny videos.

Writes ~20 tiny synthetic videos (64x36, 10 frames) and lists of N rows that reuse them under
distinct ``video_id``s, with a config that runs only the probe (``[extract] modules = []``), so
per-video work is tiny and the supervisor's overhead dominates. Then, through the real CLI
(``python -m console.cli``, so ``PYTHONPATH`` can point at another checkout to compare):

- a fresh ``run --no-ui`` (output piped): wall time, videos/s, the supervisor process's own CPU
  (user+system, psutil-sampled, workers excluded) and peak RSS; state.jsonl size and line count;
- ``status B``, ``status B --json``, ``list``, ``attach B --no-ui`` (first output line and exit)
  and ``resume B`` on the finished batch;
- the same list again as a new batch (every video ``skipped: already_done``: the skip path);
- a list with 10 % of its rows pointing at a corrupt file, then ``retry B --all-failed`` (those
  failures are permanent: nothing to re-queue) and ``retry B --all-failed --include-permanent
  --no-ui`` (re-runs them all).

    .venv/bin/python bench/batch_scale.py [--videos 5000] [--workers 2] [--dir /tmp/batch_scale]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

N_FILES = 20


def make_inputs(root: Path, n: int) -> tuple[Path, Path]:
    import cv2
    import numpy as np

    vids = root / "vids"
    vids.mkdir(parents=True, exist_ok=True)
    for i in range(N_FILES):
        p = vids / f"v{i}.mp4"
        if not p.exists():
            w = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"mp4v"), 10, (64, 36))
            for f in range(10):
                w.write(np.full((36, 64, 3), (i * 10 + f * 5) % 255, np.uint8))
            w.release()
    (vids / "corrupt.mp4").write_bytes(b"not a video at all " * 100)
    lists = []
    for name, corrupt in (("list.csv", False), ("list_bad.csv", True)):
        path = root / name
        with open(path, "w", newline="") as fh:
            wr = csv.writer(fh)
            wr.writerow(["video_path", "platform_id", "video_id"])
            for r in range(n):
                src = "vids/corrupt.mp4" if corrupt and r % 10 == 0 else f"vids/v{r % N_FILES}.mp4"
                wr.writerow([src, "local", f"{'bad' if corrupt else 'vid'}{r:06d}"])
        lists.append(path)
    return lists[0], lists[1]


class Cli:
    def __init__(self, ws: Path, cfg: Path) -> None:
        self.base = [sys.executable, "-m", "console.cli", "--workspace", str(ws), "--config", str(cfg)]

    def timed(self, *args: str) -> tuple[float, int]:
        t0 = time.perf_counter()
        rc = subprocess.run([*self.base, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
        return time.perf_counter() - t0, rc

    def first_line(self, *args: str) -> tuple[float, float, int]:
        """(seconds to the first output line, seconds to exit, exit code)."""
        t0 = time.perf_counter()
        p = subprocess.Popen([*self.base, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        assert p.stdout is not None
        p.stdout.readline()
        first = time.perf_counter() - t0
        p.stdout.read()
        rc = p.wait()
        return first, time.perf_counter() - t0, rc

    def supervised(self, *args: str) -> dict[str, Any]:
        """Run a foreground (--no-ui) command, sampling its own CPU and RSS (not its workers')."""
        t0 = time.perf_counter()
        p = subprocess.Popen([*self.base, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proc = psutil.Process(p.pid)
        cpu = rss = 0.0
        while p.poll() is None:
            try:
                with proc.oneshot():
                    t = proc.cpu_times()
                    cpu = t.user + t.system
                    rss = max(rss, proc.memory_info().rss)
            except psutil.Error:
                break
            time.sleep(0.1)
        rc = p.wait()
        return {"wall_s": time.perf_counter() - t0, "cpu_s": cpu, "rss_mb": rss / 2**20, "rc": rc}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/batch_scale"))
    ap.add_argument("--keep", action="store_true", help="keep an existing workspace (default: start clean)")
    a = ap.parse_args()
    root: Path = a.dir
    ws = root / "ws"
    if ws.exists() and not a.keep:
        shutil.rmtree(ws)
    root.mkdir(parents=True, exist_ok=True)
    good, bad = make_inputs(root, a.videos)
    cfg = root / "config.toml"
    cfg.write_text(f"[extract]\nmodules = []\nvalidate = false\n[pool]\nworkers = {a.workers}\n")
    cli = Cli(ws, cfg)
    n = a.videos
    import engine

    print(f"engine: {Path(engine.__file__).parent}  videos: {n}  workers: {a.workers}  cpus: {os.cpu_count()}")

    r = cli.supervised("run", str(good), "--no-ui", "--batch-id", "fresh")
    state = ws / "batches" / "fresh" / "state.jsonl"
    lines = state.read_bytes().count(b"\n")
    print(f"fresh run        rc={r['rc']} wall {r['wall_s']:.1f} s  {n / r['wall_s']:.1f} videos/s  "
          f"supervisor CPU {r['cpu_s']:.1f} s  peak RSS {r['rss_mb']:.0f} MiB")
    print(f"state.jsonl      {state.stat().st_size / 2**20:.2f} MiB, {lines} events")
    for label, args in (("status B", ("status", "fresh")), ("status B --json", ("status", "fresh", "--json")),
                        ("list", ("list",)), ("resume (finished)", ("resume", "fresh"))):
        s, rc = cli.timed(*args)
        print(f"{label:<17}rc={rc} {s:.2f} s")
    first, total, rc = cli.first_line("attach", "fresh", "--no-ui")
    print(f"attach --no-ui   rc={rc} first line {first:.2f} s, exit {total:.2f} s")

    r = cli.supervised("run", str(good), "--no-ui", "--batch-id", "rerun")
    print(f"re-run (skips)   rc={r['rc']} wall {r['wall_s']:.1f} s  {n / r['wall_s']:.1f} videos/s  "
          f"supervisor CPU {r['cpu_s']:.1f} s  peak RSS {r['rss_mb']:.0f} MiB")

    r = cli.supervised("run", str(bad), "--no-ui", "--batch-id", "bad")
    print(f"10% corrupt run  rc={r['rc']} wall {r['wall_s']:.1f} s  {n / r['wall_s']:.1f} videos/s  "
          f"supervisor CPU {r['cpu_s']:.1f} s")
    s, rc = cli.timed("retry", "bad", "--all-failed")
    print(f"retry --all-failed (permanent only: nothing re-queued) rc={rc} {s:.2f} s")
    r = cli.supervised("retry", "bad", "--all-failed", "--include-permanent", "--no-ui")
    print(f"retry --all-failed --include-permanent --no-ui ({n // 10} re-run) rc={r['rc']} wall {r['wall_s']:.1f} s  "
          f"supervisor CPU {r['cpu_s']:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
