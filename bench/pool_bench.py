"""Benchmarks of the supervised pool, through the real CLI and worker processes.

1. Supervisor overhead per video: many tiny videos (probe only), 2 workers. Overhead per video
   = (wall from first start to batch end - summed per-video work / workers) / videos. Target ≤ 20 ms.
2. Scaling: 20 videos with the default extraction, 2 workers vs 1, wall-time ratio. Target ≤ 0.6.
   Measured with one thread per worker in both runs (VIDOPS_THREADS=1), so the ratio shows how
   the pool scales rather than how one video's threads use a second core; the ratio with the
   default thread share (cores // workers) is printed too.

    .venv/bin/python bench/pool_bench.py [--tiny 200] [--videos 20] [--seconds 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _media import make_clip  # noqa: E402


def run_batch(ws: Path, cfg: Path, lst: Path, workers: int, batch: str, threads: int | None = None) -> list[dict]:
    cmd = [sys.executable, "-m", "console.cli", "--workspace", str(ws), "--config", str(cfg), "run", str(lst),
           "--json", "--workers", str(workers), "--batch-id", batch]
    env = {k: v for k, v in os.environ.items() if k != "VIDOPS_THREADS"}
    if threads:
        env["VIDOPS_THREADS"] = str(threads)
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    path = ws / "batches" / batch / "state.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()]


def per_video(events: list[dict]) -> float:
    walls = [e["wall_s"] for e in events if e["type"] == "video_succeeded"]
    return sum(walls) / len(walls)


def span(events: list[dict]) -> float:
    first = min(e["ts"] for e in events if e["type"] == "video_started")
    end = next(e["ts"] for e in events if e["type"] == "batch_finished")
    return end - first


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tiny", type=int, default=200)
    ap.add_argument("--videos", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        # 1. overhead
        tiny = make_clip(d / "tiny.mp4", 0.2, (64, 48))
        lst = d / "tiny.csv"
        lst.write_text("video_path,video_id\n" + "".join(f"{tiny},t{i}\n" for i in range(args.tiny)))
        cfg = d / "probe.toml"
        cfg.write_text("[extract]\nmodules = []\n")
        ev = run_batch(d / "ws1", cfg, lst, 2, "tiny")
        wall = span(ev)
        work = sum(e["wall_s"] for e in ev if e["type"] == "video_succeeded")
        overhead_ms = (wall - work / 2) / args.tiny * 1000
        print(f"overhead: {args.tiny} tiny videos, 2 workers: wall {wall:.2f} s, work {work:.2f} s "
              f"-> {overhead_ms:.1f} ms per video (target <= 20 ms)")
        # 2. scaling with the default extraction
        lst2 = d / "real.csv"
        clips = [make_clip(d / f"c{i}.mp4", args.seconds) for i in range(args.videos)]
        lst2.write_text("video_path\n" + "".join(f"{c}\n" for c in clips))
        default_cfg = Path(__file__).resolve().parent.parent / "config.toml"
        for label, threads in (("default thread share", None), ("1 thread per worker", 1)):
            ratios = []
            for r in range(args.rounds):  # interleaved rounds: this machine's load drifts
                ev1 = run_batch(d / f"ws{r}a{threads}", default_cfg, lst2, 1, "one", threads)
                ev2 = run_batch(d / f"ws{r}b{threads}", default_cfg, lst2, 2, "two", threads)
                one, two = span(ev1), span(ev2)
                w1, w2 = per_video(ev1), per_video(ev2)
                ratios.append(two / one)
                print(f"scaling ({label}), round {r + 1}: {args.videos} videos x {args.seconds:g} s 320x240, default "
                      f"modules: 1 worker {one:.2f} s, 2 workers {two:.2f} s -> ratio {two / one:.2f}; mean per-video "
                      f"work {w1 * 1000:.0f} ms alone vs {w2 * 1000:.0f} ms two at a time (hardware share {w2 / w1 / 2:.2f})")
            print(f"scaling ({label}): median ratio {sorted(ratios)[len(ratios) // 2]:.2f} over {args.rounds} rounds "
                  f"(target <= 0.6)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
