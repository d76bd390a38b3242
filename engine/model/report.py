"""Rendering metrics: a plain-text table for the terminal and ``report.md`` for a run.

Works on the ``metrics.json`` structure (``targets[name][split]`` = scores from
:func:`engine.model.metrics.score`) and on evaluation results of the same shape.
"""

from __future__ import annotations

from typing import Any

from engine.model.metrics import AGE_BUCKETS


def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def summary_of(scores: dict[str, Any]) -> dict[str, Any]:
    """Compact per-target figures for events and model_info (test, else validation)."""
    split = "test" if scores.get("test") else "validation"
    s = scores.get(split) or {}
    return {"split": split, "n": s.get("n"), "mae": s.get("mae"), "rmse": s.get("rmse"),
            "spearman": s.get("spearman"), "coverage80": s.get("coverage80"),
            "baseline_mae": s.get("baseline_mae")}


def warnings_of(metrics: dict[str, Any]) -> list[str]:
    """Trained targets whose figures say little: no test row, or a calibration fitted on fewer
    validation rows than one calibration bin holds (:data:`engine.model.calibration.MIN_BIN`)."""
    from engine.model.calibration import MIN_BIN

    out = []
    for name, scores in metrics.get("targets", {}).items():
        n_val = int((scores.get("validation") or {}).get("n") or 0)
        if not scores.get("test"):
            out.append(f"{name}: no test row, so its quality is not measured")
        if n_val < MIN_BIN:
            out.append(f"{name}: intervals and confidence calibrated on {n_val} validation row(s) "
                       f"(fewer than {MIN_BIN}): do not rely on them")
    return out


def _gain(mae: float | None, base: float | None) -> str:
    if mae is None or not base:
        return "-"
    return f"{100.0 * (1.0 - mae / base):+.1f}%"


HEADER = ("target", "split", "n", "MAE", "RMSE", "Spearman", "cov80", "median MAE", "loglin MAE", "vs loglin")


def table_rows(result: dict[str, Any], splits: tuple[str, ...] = ("validation", "test")) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for name, scores in result["targets"].items():
        for split in splits:
            s = scores.get(split)
            if not s:
                continue
            rows.append((name, split, str(s["n"]), _f(s["mae"]), _f(s["rmse"]), _f(s["spearman"]),
                         _f(s.get("coverage80"), 2), _f(s.get("baseline_median_mae")),
                         _f(s.get("baseline_loglinear_mae")), _gain(s["mae"], s.get("baseline_loglinear_mae"))))
    return rows


def render_table(result: dict[str, Any], splits: tuple[str, ...] = ("validation", "test")) -> str:
    rows = [HEADER, *table_rows(result, splits)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _md_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out.extend("| " + " | ".join(r) + " |" for r in rows)
    return out


def render_markdown(result: dict[str, Any]) -> str:
    lines = [f"# Model report: {result.get('run_id', '')}", ""]
    if result.get("dataset_content_hash"):
        lines += [f"Dataset content hash: `{result['dataset_content_hash']}`", ""]
    lines += ["All errors are on the log1p(delta) scale. Baselines: training median and log-linear "
              "(log1p(delta) = a·log1p(counter at snapshot 1) + b, fitted on train).", ""]
    if (result.get("fitted_on") or {}).get("test") == "train+validation":
        lines += ["Refit: validation is scored with the early-stopped models and the baselines fitted on train; "
                  "test with the models refitted on train + validation (same seeds, early-stopped iteration "
                  "counts) and with both baselines fitted on train + validation.", ""]
    lines += ["## Metrics", "", *_md_table(HEADER, table_rows(result)), ""]
    split = result.get("split")
    if split:
        lines += ["## Split", "", f"Method: {split.get('method')}, channel groups: {split.get('channel_groups')}, "
                  f"rows {split.get('rows')}, dropped by the channel constraint: "
                  f"{split.get('dropped_by_channel_constraint')}."]
        if "cut1" in split:
            lines.append(f"Cuts: {split['cut1']} / {split['cut2']}.")
        lines += ["", *_md_table(("target", "train", "validation", "test"),
                                 [(k, str(v["train"]), str(v["validation"]), str(v["test"]))
                                  for k, v in split.get("per_target", {}).items()]), ""]
    lines += ["## By age at snapshot 1 (test; validation when no test rows)", ""]
    age_rows: list[tuple[str, ...]] = []
    for name, scores in result["targets"].items():
        s = scores.get("test") or scores.get("validation")
        if not s:
            continue
        for label, _, _ in AGE_BUCKETS:
            b = s["by_age"][label]
            age_rows.append((name, label, str(b["n"]), _f(b["mae"]), _f(b["rmse"]), _f(b["spearman"]),
                             _f(b["baselines"].get("loglinear"))))
    lines += [*_md_table(("target", "age", "n", "MAE", "RMSE", "Spearman", "loglin MAE"), age_rows), ""]
    cal_rows: list[tuple[str, ...]] = []
    for name, scores in result["targets"].items():
        for r in scores.get("calibration_test") or []:
            cal_rows.append((name, r["bin"], str(r["n"]), _f(r["mean_confidence"]), _f(r["observed"])))
    if cal_rows:
        lines += ["## Confidence calibration on test", "",
                  "Confidence = P(|error| <= tolerance), calibrated on validation; observed = share of test rows "
                  "within tolerance.", "",
                  *_md_table(("target", "confidence bin", "n", "mean confidence", "observed"), cal_rows), ""]
    if result.get("skipped"):
        lines += ["## Skipped targets", "", *[f"- {k}: {v}" for k, v in result["skipped"].items()], ""]
    return "\n".join(lines)
