"""Benchmark: build the dataset from the full US dev trending file (target: < 10 s).

Run: ``.venv/bin/python bench/dataset_build.py [--snapshots FILE] [--repeat N]``.
Prints one JSON line per run with wall time, rows and content_hash.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.config import load_settings  # noqa: E402
from engine.dataset.builder import BuildInputs, build_dataset  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "trending" / "US_v2_dev.csv.gz"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--snapshots", default=str(DEFAULT))
    parser.add_argument("--format", default="trending")
    parser.add_argument("--required-horizons", default="none", help="'none' or e.g. 14,21")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not Path(args.snapshots).is_file():
        print(f"missing {args.snapshots}", file=sys.stderr)
        return 2
    required = [] if args.required_horizons == "none" else [int(x) for x in args.required_horizons.split(",")]
    settings = load_settings()
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            res = build_dataset(settings, BuildInputs(args.snapshots, out, args.format, required_horizons=required))
            wall = time.perf_counter() - t0
        print(json.dumps({"run": i, "wall_s": round(wall, 3), "rows": len(res.table),
                          "content_hash": res.meta["content_hash"][:16], "cpus": os.cpu_count(),
                          "machine": platform.platform(), "python": platform.python_version()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
