"""Console at scale: the app run headless (App.run_test) against a synthetic 100,000-video log.

Measures the initial load, resident memory, idle CPU at the default refresh (1 Hz) and key
response (filter cycle, cursor move, search). Usage::

    .venv/bin/python bench/console_scale.py [--videos 100000] [--idle-s 10]

Prints one JSON object; the figures go into docs/console.md ("Benchmarks").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from console.app import VidopsApp  # noqa: E402
from console.screens.dashboard import DashboardScreen  # noqa: E402
from console.synthetic import write_finished_batch  # noqa: E402

BATCH = "20260921-120000-bench1"


async def measure(ws: Path, n: int, idle_s: float) -> dict[str, Any]:
    proc = psutil.Process()
    rss_before = proc.memory_info().rss
    app = VidopsApp(ws, BATCH, refresh_hz=1.0, cursor_blink=False)
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        while True:
            dash = app.dashboard
            if isinstance(dash, DashboardScreen) and len(dash.videos.rows_by_key) >= n and dash.videos.row_count:
                break
            await pilot.pause(0.05)
        out["load_s"] = round(time.perf_counter() - t0, 2)
        out["mounted_rows"] = dash.videos.row_count
        await pilot.pause(1.0)
        cpu0, w0 = time.process_time(), time.perf_counter()
        await asyncio.sleep(idle_s)
        out["idle_cpu_pct_of_one_core"] = round(100 * (time.process_time() - cpu0) / (time.perf_counter() - w0), 2)
        out["rss_mb"] = round(proc.memory_info().rss / 2**20, 1)
        out["rss_growth_mb"] = round((proc.memory_info().rss - rss_before) / 2**20, 1)
        keys: dict[str, list[float]] = {"f (filter over 100k)": [], "down (cursor)": [], "] (next page)": []}
        for _ in range(4):
            for label, key in (("f (filter over 100k)", "f"), ("down (cursor)", "down"), ("] (next page)", "right_square_bracket")):
                t = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                keys[label].append((time.perf_counter() - t) * 1000)
        out["key_ms_median"] = {k: round(sorted(v)[len(v) // 2], 1) for k, v in keys.items()}
        out["key_ms_max"] = {k: round(max(v), 1) for k, v in keys.items()}
        out["rss_mb_after_keys"] = round(proc.memory_info().rss / 2**20, 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=100_000)
    ap.add_argument("--idle-s", type=float, default=10.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        t = time.perf_counter()
        root = write_finished_batch(ws, BATCH, n=args.videos, running=0)
        log_mb = (root / "state.jsonl").stat().st_size / 2**20
        gen_s = time.perf_counter() - t
        result = asyncio.run(measure(ws, args.videos, args.idle_s))
    doc = {"command": " ".join([os.path.basename(sys.executable), *sys.argv]), "videos": args.videos,
           "log_mb": round(log_mb, 1), "generate_s": round(gen_s, 1), **result,
           "machine": f"{platform.machine()}, {psutil.cpu_count()} cores, {platform.python_version()}, "
                      f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM"}
    print(json.dumps(doc, indent=2))
    ok = doc["rss_mb"] < 300 and doc["idle_cpu_pct_of_one_core"] < 5
    print("PASS" if ok else "FAIL: RSS must stay < 300 MB and idle CPU < 5 %", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
