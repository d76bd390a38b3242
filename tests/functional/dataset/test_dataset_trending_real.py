"""Builds from the real Kaggle trending files in ../shared/data/trending (skipped when absent).

The coverage figures asserted here are recorded in docs/dataset.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.config import load_settings
from engine.dataset.adapters import SkipLog, load_snapshots
from engine.dataset.builder import BuildInputs, build_dataset
from engine.dataset.snapshots import deduplicate

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "trending"
pytestmark = [pytest.mark.shared, pytest.mark.skipif(not DATA.is_dir(), reason=f"{DATA} not present")]


def _check_masks(path: Path, table: pd.DataFrame, horizons: list[int], tol_h: float) -> None:
    """Independent re-derivation: mask_views_{h}d == some snapshot within tolerance of t1 + h."""
    settings = load_settings().dataset
    snaps = deduplicate(load_snapshots(str(path), "trending", settings, SkipLog()), str(path), SkipLog())
    times = snaps.groupby("video_id")["snapshot_time"].apply(lambda s: s.array.asi8)
    for h in horizons:
        expect = []
        for vid, t1 in zip(table["video_id"], table["snapshot1_time"], strict=True):
            ts = times[vid]
            d = np.abs(ts - (t1.value + h * 86_400 * 10**9))
            expect.append(int(((d <= tol_h * 3.6e12) & (ts > t1.value)).any()))
        assert (table[f"mask_views_{h}d"].to_numpy() == np.array(expect)).all(), h


def test_us_dev(tmp_path: Path) -> None:
    path = DATA / "US_v2_dev.csv.gz"
    res = build_dataset(load_settings(), BuildInputs(str(path), str(tmp_path / "us"), "trending", required_horizons=[]))
    m = res.meta
    assert m["row_counts"]["snapshot_rows_read"] == 30326 and m["row_counts"]["videos"] == 4665
    assert m["skipped_input_rows"] == {"duplicate_exact": 34, "duplicate_conflicting": 2}
    assert m["coverage"]["views"] == {"7d": 1870, "14d": 484, "21d": 110}
    assert m["coverage"]["comments"] == {"7d": 1870, "14d": 484, "21d": 110}
    assert m["negative_deltas"]["comments_7d"] == 41 and m["negative_deltas"]["likes_7d"] == 2
    assert (res.table["video_age_hours_at_snapshot1"] >= 0).all()
    rank = res.table["s1_trending_rank_pct"]
    assert rank.notna().all() and ((rank > 0) & (rank < 1)).all()
    assert res.table["channel_key"].nunique() == 1648  # 1,653 titles; 5 only appear after a rename
    _check_masks(path, res.table, [7, 14, 21], 24.0)
    default = build_dataset(load_settings(), BuildInputs(str(path), str(tmp_path / "us2"), "trending"))
    assert len(default.table) == 104
    assert default.meta["dropped_rows"] == {"no_snapshot_within_tolerance_of_14d": 4181,
                                            "no_snapshot_within_tolerance_of_21d": 380}


def test_in_aux(tmp_path: Path) -> None:
    path = DATA / "IN_v2_aux.csv.gz"
    res = build_dataset(load_settings(), BuildInputs(str(path), str(tmp_path / "in"), "trending", required_horizons=[]))
    m = res.meta
    assert m["skipped_input_rows"] == {"invalid_video_id": 510, "duplicate_exact": 4140, "duplicate_conflicting": 357}
    assert m["row_counts"]["videos"] == 16079
    assert m["coverage"]["views"] == {"7d": 57, "14d": 0, "21d": 0}
    _check_masks(path, res.table, [7], 24.0)
