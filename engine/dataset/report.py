"""Outputs of a build besides the table: content hash, file hashes, dataset_meta.json, report.md."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.dataset.targets import METRICS

_CANON_NAN = np.array([np.nan]).view(np.int64)[0]


def content_hash(df: pd.DataFrame) -> str:
    """sha256 of the table: column names, dtypes and values in order (NaN canonicalised)."""
    h = hashlib.sha256()
    h.update(f"{len(df)}|".encode())
    for name in df.columns:
        col = df[name]
        h.update(f"\x1e{name}\x1f{col.dtype}\x1f".encode())
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            h.update(col.astype("datetime64[ns, UTC]").array.asi8.astype("<i8").tobytes())
        elif pd.api.types.is_float_dtype(col.dtype):
            bits = col.to_numpy(np.float64).view(np.int64).copy()
            bits[np.isnan(col.to_numpy(np.float64))] = _CANON_NAN
            h.update(bits.astype("<i8").tobytes())
        elif pd.api.types.is_integer_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            h.update(col.to_numpy(np.int64).astype("<i8").tobytes())
        else:
            h.update("\x1f".join("\x00" if pd.isna(v) else str(v) for v in col).encode("utf-8"))
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def coverage(df: pd.DataFrame, horizons: list[int]) -> dict[str, dict[str, int]]:
    """{metric: {"7d": rows with mask 1}}."""
    return {m: {f"{h}d": int(df[f"mask_{m}_{h}d"].sum()) if len(df) else 0 for h in horizons} for m in METRICS}


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return lines


def render_report(meta: dict[str, Any], examples: dict[str, list[str]]) -> str:
    """report.md: inputs, counts, drops and skips by reason (with examples), coverage."""
    horizons = meta["horizons_days"]
    other = meta["row_counts"].get("videos_with_runs_only_under_other_config_hashes", 0)
    lines = ["# Dataset build report", "",
             f"- rows written: **{meta['row_counts']['rows_written']}** "
             f"(videos {meta['row_counts']['videos']}, valid snapshot rows {meta['row_counts']['snapshot_rows_valid']} "
             f"of {meta['row_counts']['snapshot_rows_read']} read)",
             f"- content_hash: `{meta['content_hash']}`", f"- config_hash: `{meta['config_hash']}`",
             f"- extractor_config_hash: `{meta['extractor_config_hash']}` "
             f"(videos with result-store features: {meta['row_counts']['videos_with_video_features']}"
             + (f"; with runs only under other config hashes: {other}, see Warnings)" if other else ")"),
             f"- required horizons: {meta['required_horizons_days'] or 'none'}; tolerance ±{meta['tolerance_hours']} h; "
             f"negative deltas: {meta['negative_delta_rule']}", ""]
    if meta.get("warnings"):
        lines += ["## Warnings", ""] + [f"- {w}" for w in meta["warnings"]] + [""]
    lines += ["## Inputs", ""]
    lines += _table(["role", "file", "sha256"], [[k, v["path"], f"`{v['sha256']}`"] for k, v in meta["inputs"].items()])
    lines += ["", "## Input rows skipped or altered", ""]
    skipped = meta["skipped_input_rows"]
    lines += _table(["reason", "rows"], [[k, v] for k, v in sorted(skipped.items())]) if skipped else ["none"]
    for reason in sorted(examples):
        if examples[reason]:
            lines += ["", f"Examples of `{reason}`:", ""] + [f"- {e}" for e in examples[reason]]
    lines += ["", "## Videos left out of the table", ""]
    dropped = meta["dropped_rows"]
    lines += _table(["reason", "videos"], [[k, v] for k, v in sorted(dropped.items())]) if dropped else ["none"]
    lines += ["", "## Target coverage (rows with mask 1)", ""]
    cov, cov_all = meta["coverage"], meta["coverage_all_videos"]
    lines += _table(["metric"] + [f"{h}d (table / all videos)" for h in horizons],
                    [[m] + [f"{cov[m][f'{h}d']} / {cov_all[m][f'{h}d']}" for h in horizons] for m in METRICS])
    lines += ["", "## Negative deltas (all videos)", ""]
    neg = meta["negative_deltas"]
    lines += _table(["metric"] + [f"{h}d" for h in horizons], [[m] + [neg[f"{m}_{h}d"] for h in horizons] for m in METRICS])
    if meta.get("video_feature_skips"):
        lines += ["", "## Result-store arrays not aggregated", ""] + [f"- {s}" for s in meta["video_feature_skips"]]
    return "\n".join(lines) + "\n"
