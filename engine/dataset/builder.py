"""The dataset-build orchestrator: snapshots (+ channel index, + result store) -> DIR/.

``build_dataset`` reads and cleans the snapshots, picks snapshot 1 per video, computes the
targets, channel keys and history, aggregates the result-store run of each video, builds
each feature row with :func:`engine.dataset.features.row_features` (the function inference
uses), drops videos missing a required horizon, and writes ``dataset.parquet`` (+ csv),
``dataset_meta.json`` and ``report.md`` atomically. Progress goes to ``on_event``.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.atomic import atomic_write_bytes, atomic_write_json, atomic_write_text
from engine.config import Settings
from engine.dataset import channels as ch
from engine.dataset.adapters import DatasetInputError, SkipLog, load_snapshots
from engine.dataset.features import (
    BASE_FEATURE_COLUMNS,
    CATEGORICAL_COLUMNS,
    TEXT_COLUMNS,
    row_features,
)
from engine.dataset.report import content_hash, coverage, file_sha256, render_report
from engine.dataset.snapshots import deduplicate, first_snapshots
from engine.dataset.targets import METRICS, compute_targets, mask_column, target_column
from engine.dataset.video_features import (
    FeatureSettings,
    aggregate_run,
    feature_columns,
    select_runs,
)
from engine.settings_base import result_affecting
from engine.text import plural
from engine.version import __version__, git_commit

SCHEMA_VERSION = 1
ID_COLUMNS = ["platform_id", "video_id", "channel_key", "channel_id", "snapshot1_time"]
EventFn = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class BuildInputs:
    snapshots: str
    out: str
    fmt: str = "generic"
    channels: str | None = None
    result_store: str | None = None
    csv: bool = False
    required_horizons: list[int] | None = None  # None = the [dataset] setting


@dataclass
class BuildResult:
    table: pd.DataFrame
    meta: dict[str, Any]
    out: Path


def _extractor_hash(settings: Settings, store: str | None) -> str:
    wanted = settings.dataset.extractor_config_hash
    if wanted or store is None or not Path(store).is_dir():
        return wanted or "none"
    from engine.pipeline import settings_hash  # lazy: pulls in the extractor registry

    return settings_hash(settings)


def _dataset_config_hash(settings: Settings, inputs: BuildInputs, required: list[int]) -> str:
    payload = {"dataset": result_affecting(settings.dataset), "required": required, "format": inputs.fmt}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


# What an output directory may already hold: a previous build's files (``stage.json``: the
# pipeline's stage marker; dot-.tmp: an atomic write cut short).
OUTPUT_FILES = frozenset({"dataset.parquet", "dataset.csv", "dataset_meta.json", "report.md", "stage.json"})
# A build writes dataset.parquet first: these without it were not written by one.
WRITTEN_AFTER_TABLE = frozenset({"dataset.csv", "report.md"})


def _check_out(out: Path) -> None:
    """Refuse an ``--out`` that is a file or holds other files: a build overwrites ``report.md``
    and removes a stale ``dataset.csv``, which must never be a user's own."""
    if out.exists() and not out.is_dir():
        raise DatasetInputError(f"--out {out} exists and is not a directory")
    if out.is_dir():
        ours = OUTPUT_FILES if (out / "dataset.parquet").is_file() else OUTPUT_FILES - WRITTEN_AFTER_TABLE
        other = sorted(p.name for p in out.iterdir()
                       if p.name not in ours and not (p.name.startswith(".") and p.name.endswith(".tmp")))
        if other:
            raise DatasetInputError(f"--out {out} holds files that are not a dataset build's ({', '.join(other[:5])}"
                                    f"{', ...' if len(other) > 5 else ''}); give a new or empty directory")


def other_config_warning(videos: int, total: int, wanted: str | None, hashes: dict[str, int]) -> str:
    """The warning for videos whose result-store runs are all under other extract config hashes."""
    listed = ", ".join(f"{h} ({plural(n, 'video')})" for h, n in hashes.items())
    return (f"{videos} of {plural(total, 'video')} {'has' if videos == 1 else 'have'} result-store runs only under "
            f"other extract config hashes than the current one ({wanted}): {listed}; they get no video features. "
            "Re-run their extraction with the current config, or point --config at the config those runs used "
            "(or set [dataset] extractor_config_hash to the hash of the runs to use)")


def _progress(on_event: EventFn, stage: str, done: int, total: int) -> None:
    on_event({"type": "dataset_progress", "stage": stage, "rows_done": done, "rows_total": total})


def build_dataset(settings: Settings, inputs: BuildInputs, on_event: EventFn | None = None) -> BuildResult:
    """Build the dataset; raises DatasetInputError on unusable input (after ``dataset_failed``)."""
    emit: EventFn = on_event or (lambda _e: None)
    t0 = time.perf_counter()
    emit({"type": "dataset_started", "snapshots": inputs.snapshots, "format": inputs.fmt, "out": inputs.out})
    try:
        result = _build(settings, inputs, emit)
    except BaseException as exc:  # Ctrl-C too: the event log should not end as if still running
        emit({"type": "dataset_failed", "message": "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)})
        raise
    emit({"type": "dataset_finished", "rows": len(result.table), "coverage": result.meta["coverage"],
          "duration_s": round(time.perf_counter() - t0, 3), "out": str(result.out),
          "warnings": result.meta["warnings"]})
    return result


def _build(settings: Settings, inputs: BuildInputs, emit: EventFn) -> BuildResult:
    ds = settings.dataset
    horizons = list(ds.horizons_days)
    required = list(ds.required_horizons_days if inputs.required_horizons is None else inputs.required_horizons)
    bad = sorted(set(required) - set(horizons))
    if bad:
        raise DatasetInputError(f"required horizons {bad} are not among horizons_days {horizons}")
    _check_out(Path(inputs.out))
    skips = SkipLog(max_examples=ds.max_examples)

    _progress(emit, "read", 0, 0)
    raw = load_snapshots(inputs.snapshots, inputs.fmt, settings.dataset, skips)
    rows_read = len(raw) + sum(v for k, v in skips.counts.items() if not k.endswith("_set_missing"))
    snaps = deduplicate(raw, inputs.snapshots, skips)
    if snaps.empty:  # an empty table would only fail later, in training, further from the cause
        why = "".join(f"; {k} {v}, e.g. {skips.examples[k][0]}" for k, v in sorted(skips.counts.items())
                      if skips.examples.get(k))
        raise DatasetInputError(f"{inputs.snapshots}: no usable snapshot row ({rows_read} read{why})")
    s1 = first_snapshots(snaps)
    n = len(s1)
    _progress(emit, "read", len(snaps), len(snaps))

    _progress(emit, "targets", 0, n)
    targets = compute_targets(snaps, s1, horizons, ds.tolerance_hours, ds.negative_delta)
    _progress(emit, "targets", n, n)

    _progress(emit, "channels", 0, n)
    index = ch.load_index(inputs.channels, skips) if inputs.channels else None
    keys, channel_ids = ch.channel_keys(s1, index)
    video_keys = s1[["platform_id", "video_id"]].assign(channel_key=keys)
    hist = ch.histories(snaps, video_keys)
    _progress(emit, "channels", n, n)

    fset = FeatureSettings(ds.embedding_max_dim, tuple(ds.embedding_arrays))
    wanted = _extractor_hash(settings, inputs.result_store)
    selection = select_runs(inputs.result_store, wanted) if wanted != "none" else select_runs(None, "")
    rows: list[dict[str, object]] = []
    video_cols: set[str] = set()
    vf_skips: set[str] = set()
    with_video = 0
    records = s1.to_dict("records")
    for i, rec in enumerate(records):
        run = selection.runs.get((rec["platform_id"], rec["video_id"]))
        values = None
        if run is not None:
            agg = aggregate_run(run, fset)
            values, with_video = agg.values, with_video + 1
            video_cols.update(agg.values)
            vf_skips.update(agg.skipped)
        stats = ch.stats_for(index, channel_ids.iat[i])
        rows.append(row_features(rec, values, hist.get(keys.iat[i]), stats))
        if (i + 1) % 1000 == 0 or i + 1 == n:
            _progress(emit, "features", i + 1, n)
    # Runs under another extract config are not used: say so, or "0 videos with features" is all one sees.
    listed = {(rec["platform_id"], rec["video_id"]) for rec in records}
    only_other = [k for k in listed if k not in selection.runs and selection.other_hashes.get(k)]
    other_hashes = selection.other_config_videos(listed)
    warnings = [other_config_warning(len(only_other), len(listed), selection.wanted_hash, other_hashes)] if only_other else []

    feats = BASE_FEATURE_COLUMNS + [c for c in feature_columns(video_cols) if c not in BASE_FEATURE_COLUMNS]
    table = pd.DataFrame(rows, columns=feats, index=s1.index)
    text = set(CATEGORICAL_COLUMNS) | set(TEXT_COLUMNS)
    for c in feats:
        table[c] = table[c].astype(str) if c in text else table[c].astype("float64")
    ids = pd.DataFrame({
        "platform_id": s1["platform_id"].astype(str), "video_id": s1["video_id"].astype(str),
        "channel_key": keys.astype(str), "channel_id": channel_ids.astype(str),
        "snapshot1_time": s1["snapshot_time"].astype("datetime64[ns, UTC]"),
    }, index=s1.index)
    full = pd.concat([ids, targets.table, table], axis=1)
    cov_all = coverage(full, horizons)

    keep = np.ones(n, dtype=bool)
    dropped: dict[str, int] = {}
    for h in required:
        miss = keep & ~targets.has_snapshot[h]
        if miss.any():
            dropped[f"no_snapshot_within_tolerance_of_{h}d"] = int(miss.sum())
        keep &= ~miss
    if not keep.any():
        raise DatasetInputError(
            f"{inputs.snapshots}: none of the {plural(n, 'video')} has a snapshot within ±{ds.tolerance_hours:g} h of every "
            f"required horizon {required} ({', '.join(f'{k} {v}' for k, v in dropped.items())}); rebuild with "
            "--required-horizons none (keep every video, train on the masks) or fewer horizons")
    final = full.loc[keep].sort_values(["platform_id", "video_id"], kind="stable").reset_index(drop=True)
    chash = content_hash(final)

    out = Path(inputs.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file on the way, no permission: the user's path, not a bug
        raise DatasetInputError(f"--out {out}: cannot create the directory ({exc})") from None
    rebuild = (out / "dataset_meta.json").is_file()
    # dataset_meta.json marks a complete build (train and the pipeline look for it): remove a previous
    # build's first and write it last, so an interrupted rebuild never pairs a new table with an old meta.
    if rebuild:
        (out / "dataset_meta.json").unlink()
    _progress(emit, "write", 0, len(final))
    input_files = {"snapshots": inputs.snapshots, **({"channels": inputs.channels} if inputs.channels else {})}
    meta: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "vidops_version": __version__, "git_commit": git_commit(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "format": inputs.fmt, "config_hash": _dataset_config_hash(settings, inputs, required),
        "extractor_config_hash": selection.config_hash, "result_store": inputs.result_store,
        "settings": result_affecting(settings.dataset),
        "inputs": {k: {"path": str(v), "sha256": file_sha256(v)} for k, v in input_files.items()},
        "horizons_days": horizons, "required_horizons_days": required, "tolerance_hours": ds.tolerance_hours,
        "negative_delta_rule": ds.negative_delta, "metrics": list(METRICS),
        "row_counts": {"snapshot_rows_read": rows_read, "snapshot_rows_valid": len(snaps), "videos": n,
                       "rows_written": len(final), "videos_with_video_features": with_video,
                       "result_store_runs_not_used": selection.incomplete_or_other,
                       "videos_with_runs_only_under_other_config_hashes": len(only_other)},
        "other_extractor_config_hashes": other_hashes, "warnings": warnings,
        "skipped_input_rows": dict(sorted(skips.counts.items())), "dropped_rows": dropped,
        "coverage": coverage(final, horizons), "coverage_all_videos": cov_all,
        "negative_deltas": targets.negative, "id_columns": ID_COLUMNS,
        "target_columns": [target_column(m, h) for h in horizons for m in METRICS],
        "mask_columns": [mask_column(m, h) for h in horizons for m in METRICS],
        "feature_columns": feats, "categorical_columns": list(CATEGORICAL_COLUMNS), "text_columns": list(TEXT_COLUMNS),
        "feature_settings": fset.to_dict(), "video_feature_skips": sorted(vf_skips),
        "columns": [{"name": c, "dtype": str(final[c].dtype)} for c in final.columns],
        "content_hash": chash,
    }
    buf = io.BytesIO()
    final.to_parquet(buf, index=False)
    atomic_write_bytes(out / "dataset.parquet", buf.getvalue())
    if inputs.csv:
        atomic_write_text(out / "dataset.csv", final.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ"))
    elif rebuild:
        (out / "dataset.csv").unlink(missing_ok=True)  # the previous build's table, no longer this one
    atomic_write_text(out / "report.md", render_report(meta, skips.examples))
    atomic_write_json(out / "dataset_meta.json", meta)
    _progress(emit, "write", len(final), len(final))
    return BuildResult(final, meta, out)
