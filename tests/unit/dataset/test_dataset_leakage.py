"""Leakage and determinism: features never see the future; same inputs -> same content_hash."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.dataset.features import CHANNEL_HISTORY_COLUMNS

D = 24.0


def _rows(snap) -> list[dict]:
    rng = np.random.default_rng(7)
    rows = []
    for i in range(12):
        start = float(rng.integers(0, 20)) * D
        views = 100.0 * (i + 1)
        for k in range(int(rng.integers(1, 25))):
            views += float(rng.integers(0, 500))
            rows.append(snap(f"v{i:02d}", start + k * D, views, int(views // 10), int(views // 50),
                             channel_title=f"ch{i % 3}", trending_rank_pct=round(float(rng.uniform(0.01, 1)), 3)))
    return rows


def _features(res) -> pd.DataFrame:
    return res.table.set_index("video_id")[res.meta["feature_columns"]]


def test_later_snapshots_change_no_feature(build, snap) -> None:
    rows = _rows(snap)
    base = build(rows)
    first: dict[str, str] = {}
    for r in sorted(rows, key=lambda r: r["snapshot_time"]):
        first.setdefault(r["video_id"], r["snapshot_time"])
    for target in ("v00", "v05", "v10"):
        changed = [dict(r, views=r["views"] * 3 + 7, likes=0, trending_rank_pct=0.999)
                   if r["video_id"] == target and r["snapshot_time"] > first[target] else r for r in rows]
        changed.append(snap(target, 40 * D, 10**9, channel_title="ch9"))
        other = build(changed)
        pd.testing.assert_series_equal(_features(base).loc[target], _features(other).loc[target])
        assert base.meta["content_hash"] != other.meta["content_hash"]  # its targets did change


def test_other_videos_after_snapshot1_do_not_change_history(build, snap) -> None:
    rows = _rows(snap)
    base = build(rows)
    t1 = base.table.set_index("video_id")["snapshot1_time"]
    target = "v04"
    cut = t1[target]
    changed = []
    for r in rows:
        t = pd.Timestamp(r["snapshot_time"])
        if r["video_id"] != target and t >= cut:
            r = dict(r, views=r["views"] * 11 + 13, likes=1)
        changed.append(r)
    changed.append(snap("new_video", (cut - pd.Timestamp("2024-01-01T12:00:00Z")).total_seconds() / 3600, 5,
                        channel_title="ch1"))  # a new channel video exactly at snapshot 1: not "before"
    other = build(changed)
    a = base.table.set_index("video_id").loc[target, CHANNEL_HISTORY_COLUMNS]
    b = other.table.set_index("video_id").loc[target, CHANNEL_HISTORY_COLUMNS]
    pd.testing.assert_series_equal(a, b)
    assert base.table.set_index("video_id").loc[target, "ch_hist_videos"] >= 0
    # the test is not vacuous: the growth features of the channel's earlier videos are defined
    assert a[["ch_hist_growth_1d_median", "ch_hist_log_growth_per_day_median"]].notna().all()


def test_history_counts_only_strictly_earlier(build, snap) -> None:
    rows = [snap("a", 0, 10), snap("b", 0, 20), snap("c", D, 30), snap("c", 2 * D, 90), snap("d", 3 * D, 1)]
    t = build(rows).table.set_index("video_id")
    assert t.loc["a", "ch_hist_videos"] == 0 and t.loc["b", "ch_hist_videos"] == 0
    assert t.loc["c", "ch_hist_videos"] == 2 and t.loc["c", "ch_hist_s1_views_median"] == 15
    assert t.loc["d", "ch_hist_videos"] == 3 and t.loc["d", "ch_hist_views_max"] == 90
    assert t.loc["d", "ch_hist_snapshots"] == 4 and t.loc["d", "ch_hist_hours_since_last_video"] == 48


def test_deterministic_content_hash(build, snap) -> None:
    rows = _rows(snap)
    a = build(rows)
    b = build(list(reversed(rows)))
    assert a.meta["content_hash"] == b.meta["content_hash"]
    assert list(a.table.columns) == list(b.table.columns)
    assert list(a.table["video_id"]) == sorted(a.table["video_id"])
    back = pd.read_parquet(a.out / "dataset.parquet")
    pd.testing.assert_frame_equal(back, a.table)
    assert str(back["snapshot1_time"].dtype) == "datetime64[ns, UTC]"


def test_prior_growth_features_use_only_rows_before_snapshot1(build, snap) -> None:
    rows = [snap("p", 0, 100), snap("p", D, 200), snap("p", 7 * D, 1000), snap("p", 10 * D, 5000),
            snap("p", 12 * D, 9000), snap("q", 10 * D, 50, trending_rank_pct=0.25), snap("q", 17 * D, 80)]
    res = build(rows)
    q = res.table.set_index("video_id").loc["q"]
    assert q["ch_hist_growth_1d_median"] == 0.0  # log1p(200 - 100) - log1p(100)
    assert np.isclose(q["ch_hist_growth_7d_median"], np.log1p(900) - np.log1p(100))
    assert np.isclose(q["ch_hist_log_growth_per_day_median"], (np.log1p(1000) - np.log1p(100)) / 7)
    assert q["ch_hist_trending_days_mean"] == 3  # p's rows at 0, 1 and 7 days; the one at 10 d is not before
    assert q["s1_trending_rank_pct"] == 0.25
    age = 24.0 + 10 * D  # published a day before T0
    assert np.isclose(q["s1_log_views_per_hour"], np.log1p(50) - np.log1p(age))
    # p's rows at/after q's snapshot 1 and q's later rows change nothing of q's features
    t1 = q["snapshot1_time"]
    later = [dict(r, views=r["views"] * 7 + 1)
             if (r["video_id"] != "q" and pd.Timestamp(r["snapshot_time"]) >= t1)
             or (r["video_id"] == "q" and pd.Timestamp(r["snapshot_time"]) > t1) else r for r in rows]
    other = build(later).table.set_index("video_id").loc["q", res.meta["feature_columns"]]
    pd.testing.assert_series_equal(q[res.meta["feature_columns"]], other)
