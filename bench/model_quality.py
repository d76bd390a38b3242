"""Model quality and speed bench on the real trending dev file (issue #5, item 7).

Builds the dataset from ``US_v2_dev.csv.gz`` (every video, masks for missing horizons), trains
all 3 metrics x 3 horizons with a time split (train < cut1 <= validation < 2018-03-15 <= test)
and the channel-group constraint, prints the metrics table, the training time and the
targets: views +7d test MAE at least 35 % below the log-linear baseline, Spearman >= 0.8,
training < 120 s. ``--text both`` also measures title/tags as CatBoost text features.

    .venv/bin/python bench/model_quality.py [--snapshots FILE] [--work DIR] [--text off|on|both] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.config import load_settings  # noqa: E402
from engine.dataset.builder import BuildInputs, build_dataset  # noqa: E402
from engine.model import report  # noqa: E402
from engine.model.train import train  # noqa: E402

DEFAULT_SNAPSHOTS = ROOT.parent / "shared" / "data" / "trending" / "US_v2_dev.csv.gz"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snapshots", default=str(DEFAULT_SNAPSHOTS))
    ap.add_argument("--work", default=None, help="working directory (default: a temp dir)")
    ap.add_argument("--cut1", default="2018-02-15", help="train/validation cut")
    ap.add_argument("--cut2", default="2018-03-15", help="validation/test cut")
    ap.add_argument("--text", choices=("off", "on", "both"), default="off")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--age-split", action="store_true",
                    help="also train with the age split (14d/21d targets exist only from Feb 2018 on, so a time "
                         "split cannot train them on this file)")
    ap.add_argument("--json", metavar="FILE", help="write the figures here")
    args = ap.parse_args()
    if not Path(args.snapshots).is_file():
        print(f"skip: {args.snapshots} not found", file=sys.stderr)
        return 0
    work = Path(args.work or tempfile.mkdtemp(prefix="vidops-model-bench-"))
    settings = load_settings()
    t0 = time.perf_counter()
    built = build_dataset(settings, BuildInputs(snapshots=args.snapshots, fmt="trending", out=str(work / "dataset"),
                                                result_store=str(work / "no_result_store"), required_horizons=[]))
    build_s = time.perf_counter() - t0
    print(f"dataset: {len(built.table)} videos in {build_s:.1f} s -> {built.out}")
    variants = {"off": [False], "on": [True], "both": [False, True]}[args.text]
    figures: dict[str, object] = {"cpu_count": os.cpu_count(), "threads": args.threads, "build_s": round(build_s, 2)}
    ok = True
    for use_text in variants:
        ms = replace(settings.model, cut1=args.cut1, cut2=args.cut2, use_text_features=use_text,
                     thread_count=args.threads, task_type="cpu")
        name = "text" if use_text else "no_text"
        result = train(built.out, ms, work / f"run-{name}")
        m = result.metrics
        print(f"\n== {name}: trained {len(m['targets'])} targets in {result.seconds:.1f} s ({args.threads} threads) ==")
        print(report.render_table(m))
        split = m["split"]
        print(f"split rows {split['rows']}, dropped by channel constraint {split['dropped_by_channel_constraint']}")
        print("rows with a target per split: " + "; ".join(
            f"{k} {v['train']}/{v['validation']}/{v['test']}" for k, v in split["per_target"].items()))
        for k, why in m.get("skipped", {}).items():
            print(f"not trained: {k}: {why}")
        v7 = m["targets"]["views_7d"]["test"]
        gain = 1.0 - v7["mae"] / v7["baseline_loglinear_mae"]
        checks = {"views_7d_mae_gain_vs_loglinear": round(gain, 4), "views_7d_spearman": v7["spearman"],
                  "train_seconds": round(result.seconds, 2)}
        passed = gain >= 0.35 and (v7["spearman"] or 0) >= 0.8 and result.seconds < 120
        print(f"views +7d test: MAE {v7['mae']:.3f} vs log-linear {v7['baseline_loglinear_mae']:.3f} "
              f"({100 * gain:.1f}% lower; target >= 35%), Spearman {v7['spearman']} (target >= 0.8), "
              f"time {result.seconds:.1f} s (target < 120 s): {'PASS' if passed else 'FAIL'}")
        ok = ok and passed
        figures[name] = {"checks": checks, "passed": passed, "split": split,
                         "table": [dict(zip(report.HEADER, row, strict=True)) for row in report.table_rows(m)]}
    if args.age_split:
        ms = replace(settings.model, split="age", thread_count=args.threads, task_type="cpu")
        result = train(built.out, ms, work / "run-age")
        print(f"\n== age split (< {ms.age_threshold_hours:g} h at snapshot 1 -> train; older channels halved "
              f"into validation/test): {result.seconds:.1f} s ==")
        print(report.render_table(result.metrics, splits=("test",)))
        for k, why in result.metrics.get("skipped", {}).items():
            print(f"not trained: {k}: {why}")
        figures["age_split"] = {"train_seconds": round(result.seconds, 2),
                               "table": [dict(zip(report.HEADER, row, strict=True))
                                         for row in report.table_rows(result.metrics, ("test",))]}
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
