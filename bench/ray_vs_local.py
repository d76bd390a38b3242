"""Benchmark: the Ray backend against the local worker pool on the same generated batch.

Run: ``.venv/bin/python bench/ray_vs_local.py [--videos N] [--frames F] [--workers W] [--modules default|none]``.

Generates N synthetic videos, then runs the same list through ``vidops run --no-ui`` three ways,
each into a fresh workspace: the local pool; Ray with the driver connecting to an already
running local Ray (started here: 127.0.0.1, no dashboard); and Ray "cold", the driver starting
its own local Ray. Prints one JSON line per run (wall time, sum of per-video attempt times from
the event log, videos done) and a summary line with the overhead ratios against the local pool.
The result stores of the three runs are compared (manifests without timings, NPZ arrays);
order-dependent modules (``uniqueness``) may differ when several videos run at once.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _load_write_video() -> Any:
    """The tests' synthetic-video writer (tests/conftest.py), loaded by path."""
    spec = importlib.util.spec_from_file_location("vidops_tests_conftest", REPO / "tests" / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_video


write_video = _load_write_video()


def run_batch(ws: Path, cfg: Path, lst: Path, workers: int) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "console.cli", "--workspace", str(ws), "--config", str(cfg),
           "run", str(lst), "--no-ui", "--workers", str(workers)]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    (state,) = ws.glob("batches/*/state.jsonl")
    evs = [json.loads(x) for x in state.read_text().splitlines() if x.strip()]
    done = [e for e in evs if e["type"] == "video_succeeded"]
    first = next(e["ts"] for e in evs if e["type"] == "video_started")
    last = max(e["ts"] for e in done)
    return {"wall_s": round(wall, 2), "first_start_to_last_done_s": round(last - first, 2),
            "sum_attempt_s": round(sum(e["wall_s"] for e in done), 2), "done": len(done)}


def snapshot(root: Path) -> dict[str, Any]:
    def strip(o: Any) -> Any:
        return {k: strip(v) for k, v in o.items() if not k.endswith(("wall_s", "_at"))} if isinstance(o, dict) else o

    snap: dict[str, Any] = {}
    for m in sorted(root.glob("*/*/*/manifest.json")):
        arrays = {}
        for npz in sorted(m.parent.glob("*.npz")):
            with np.load(npz, allow_pickle=False) as data:
                arrays[npz.name] = {k: data[k].tobytes() for k in data.files}
        snap[str(m.parent.relative_to(root))] = (strip(json.loads(m.read_text())), arrays)
    return snap


def differences(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Components whose manifest entry or arrays differ (run dirs present in only one store too)."""
    out = sorted(set(a) ^ set(b))
    for run in sorted(set(a) & set(b)):
        (ma, xa), (mb, xb) = a[run], b[run]
        comps = set(ma.get("components", {})) | set(mb.get("components", {}))
        for c in sorted(comps):
            if ma["components"].get(c) != mb["components"].get(c) or xa.get(f"{c}.npz") != xb.get(f"{c}.npz"):
                out.append(f"{run.split('/')[1]}:{c}")
        rest_a = {k: v for k, v in ma.items() if k != "components"}
        if rest_a != {k: v for k, v in mb.items() if k != "components"}:
            out.append(f"{run.split('/')[1]}:manifest")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--frames", type=int, default=150)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--modules", choices=["default", "none"], default="default")
    args = parser.parse_args()
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray

    with tempfile.TemporaryDirectory(prefix="vidops-bench-") as tmp:
        d = Path(tmp)
        for i in range(args.videos):
            write_video(d / f"b{i:03d}.avi", frames=args.frames + i, size=(320, 240), cuts=(args.frames // 2,))
        lst = d / "list.csv"
        lst.write_text("video_path\n" + "".join(f"b{i:03d}.avi\n" for i in range(args.videos)))
        base = "[extract]\nmodules = []\n" if args.modules == "none" else ""
        (d / "local.toml").write_text(base)
        (d / "cold.toml").write_text(base + '[pool]\nbackend = "ray"\n')
        results = {"local": run_batch(d / "ws_local", d / "local.toml", lst, args.workers)}
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        address = ray.get_runtime_context().gcs_address
        (d / "warm.toml").write_text(base + f'[pool]\nbackend = "ray"\nray_address = "{address}"\n')
        results["ray_connected"] = run_batch(d / "ws_warm", d / "warm.toml", lst, args.workers)
        ray.shutdown()
        results["ray_cold"] = run_batch(d / "ws_cold", d / "cold.toml", lst, args.workers)
        ref = snapshot(d / "ws_local" / "result_store")
        same = {k: differences(ref, snapshot(d / f"ws_{w}" / "result_store")) or "identical"
                for k, w in (("ray_connected", "warm"), ("ray_cold", "cold"))}
    machine = f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, Python {platform.python_version()}, " \
              f"ray {ray.__version__}"
    for name, r in results.items():
        print(json.dumps({"run": name, **r}))
    loc = results["local"]
    print(json.dumps({
        "videos": args.videos, "frames": args.frames, "workers": args.workers, "modules": args.modules,
        "machine": machine,
        "wall_ratio_connected": round(results["ray_connected"]["wall_s"] / loc["wall_s"], 3),
        "wall_ratio_cold": round(results["ray_cold"]["wall_s"] / loc["wall_s"], 3),
        "processing_ratio_connected": round(results["ray_connected"]["first_start_to_last_done_s"]
                                            / loc["first_start_to_last_done_s"], 3),
        "same_results": same,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
