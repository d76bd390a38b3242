"""Model quality and speed bench on the real trending dev file (issue #5, item 7).

Builds the dataset from ``US_v2_dev.csv.gz`` (every video, masks for missing horizons), trains
all 3 metrics x 3 horizons with a time split (train < cut1 <= validation < 2018-03-15 <= test)
and the channel-group constraint, prints the metrics table, the training time and the
targets: views +7d test MAE at least 35 % below the log-linear baseline, Spearman >= 0.8,
training < 120 s, and a paired bootstrap 95 % interval of the views +7d gain over the test rows
(how far the 200-odd test rows alone let the figure move). ``--text both`` also measures
title/tags as CatBoost text features.

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

import numpy as np  # noqa: E402

from engine.config import load_settings  # noqa: E402
from engine.dataset.builder import BuildInputs, build_dataset  # noqa: E402
from engine.model import baselines, predictor, report  # noqa: E402
from engine.model.artifacts import load_run  # noqa: E402
from engine.model.data import has_target, load_dataset, prepare, target_values  # noqa: E402
from engine.model.settings import ModelSettings  # noqa: E402
from engine.model.splits import make_split  # noqa: E402
from engine.model.train import train  # noqa: E402

DEFAULT_SNAPSHOTS = ROOT.parent / "shared" / "data" / "trending" / "US_v2_dev.csv.gz"


def gain_interval(run_dir: Path, dataset_dir: Path, settings: ModelSettings, target_name: str = "views_7d",
                  n_boot: int = 2000, seed: int = 0) -> dict[str, float]:
    """Paired bootstrap over the test rows of 1 - MAE(model) / MAE(log-linear): the rows are
    resampled together, so the interval is the spread the test sample alone allows (the
    models are not retrained). Recomputes the test predictions from the saved run and checks
    that their MAE is the one in metrics.json."""
    run = load_run(run_dir)
    ds = load_dataset(dataset_dir)
    (target,) = [t for t in run.targets if t.name == target_name]
    labels = make_split(ds.frame, settings, run.targets).labels
    rows = np.flatnonzero(has_target(ds.frame, target) & (labels == "test"))
    x = prepare(ds.frame, run.spec).iloc[rows]
    y = target_values(ds.frame, target)[rows]
    params = run.baselines[target.name]
    err_m = np.abs(predictor.predict(run.model(target), x, run.spec, run.calibration[target.name], params).mean - y)
    err_b = np.abs(baselines.predict("loglinear", x, params["loglinear"]) - y)
    stored = run.metrics["targets"][target.name]["test"]["mae"]
    if abs(float(err_m.mean()) - float(stored)) > 1e-3:
        raise RuntimeError(f"recomputed {target_name} test MAE {err_m.mean():.4f} != stored {stored}")
    idx = np.random.default_rng(seed).integers(0, len(rows), size=(n_boot, len(rows)))
    gains = 1.0 - err_m[idx].mean(axis=1) / err_b[idx].mean(axis=1)
    lo, hi = np.percentile(gains, [2.5, 97.5])
    return {"gain": round(float(1.0 - err_m.mean() / err_b.mean()), 4), "ci95_low": round(float(lo), 4),
            "ci95_high": round(float(hi), 4), "share_at_least_35pct": round(float(np.mean(gains >= 0.35)), 3),
            "n": int(len(rows)), "n_boot": n_boot}


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
        if ms.split == "time":
            ci = gain_interval(result.run_dir, built.out, ms)
            checks["views_7d_gain_ci95"] = [ci["ci95_low"], ci["ci95_high"]]
            print(f"views +7d gain, paired bootstrap over the {ci['n']} test rows ({ci['n_boot']} resamples): "
                  f"95 % interval {100 * ci['ci95_low']:.1f}% to {100 * ci['ci95_high']:.1f}%; "
                  f"{100 * ci['share_at_least_35pct']:.0f}% of resamples reach 35%")
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
