"""Targets and masks on hand-computed tables: tolerance edges, ties, negatives, duplicates."""

from __future__ import annotations

import math

import numpy as np
import pytest

D = 24.0


def _row(res, video):
    t = res.table
    return t.loc[t["video_id"] == video].iloc[0]


def test_nearest_within_tolerance_and_edges(build, snap) -> None:
    rows = [
        snap("a", 0, 100, 10, 5),
        snap("a", 7 * D, 200, 12, 6),           # exact +7d
        snap("a", 13 * D + 1, 300, 13, 7),      # 23 h before +14d: nearest
        snap("a", 15 * D, 400, 14, 8),          # 24 h after +14d: inside, but farther
        snap("a", 22 * D + 1, 900, 20, 9),      # 25 h after +21d: outside tolerance
        snap("b", 0, 50),
        snap("b", 7 * D + 24, 60),              # exactly +24 h: inside (<=)
        snap("b", 14 * D - 12, 70),             # tie 12 h before / after +14d: earlier wins
        snap("b", 14 * D + 12, 80),
        snap("b", 21 * D - 24.001, 90),         # just outside tolerance
    ]
    res = build(rows)
    a, b = _row(res, "a"), _row(res, "b")
    assert a["target_views_7d"] == pytest.approx(math.log1p(100))
    assert a["target_likes_7d"] == pytest.approx(math.log1p(2))
    assert a["target_views_14d"] == pytest.approx(math.log1p(200))
    assert a["target_comments_14d"] == pytest.approx(math.log1p(2))
    assert a["mask_views_21d"] == 0 and np.isnan(a["target_views_21d"])
    assert b["target_views_7d"] == pytest.approx(math.log1p(10)) and b["mask_views_7d"] == 1
    assert b["target_views_14d"] == pytest.approx(math.log1p(20))
    assert b["mask_views_21d"] == 0 and b["mask_likes_21d"] == 0 and b["mask_comments_21d"] == 0
    assert res.table["mask_views_7d"].dtype == np.int8
    assert res.meta["coverage"]["views"] == {"7d": 2, "14d": 2, "21d": 0}


def test_negative_delta_rules(build, snap) -> None:
    rows = [snap("a", 0, 100, 10, 50), snap("a", 7 * D, 150, 8, 40)]
    clip = build(rows)
    a = _row(clip, "a")
    assert a["target_likes_7d"] == 0.0 and a["mask_likes_7d"] == 1
    assert a["target_comments_7d"] == 0.0
    assert clip.meta["negative_deltas"]["likes_7d"] == 1 and clip.meta["negative_deltas"]["comments_7d"] == 1
    missing = build(rows, overrides={"negative_delta": "missing"})
    m = _row(missing, "a")
    assert m["mask_likes_7d"] == 0 and np.isnan(m["target_likes_7d"])
    assert m["mask_views_7d"] == 1 and m["target_views_7d"] == pytest.approx(math.log1p(50))
    assert missing.meta["negative_deltas"]["comments_7d"] == 1


def test_required_horizons_drop_and_count(build, snap) -> None:
    rows = [snap("a", 0, 1), snap("a", 14 * D, 2), snap("a", 21 * D, 3),
            snap("b", 0, 1), snap("b", 14 * D, 2),
            snap("c", 0, 1)]
    res = build(rows, required=[14, 21])
    assert list(res.table["video_id"]) == ["a"]
    assert res.meta["dropped_rows"] == {"no_snapshot_within_tolerance_of_14d": 1,
                                        "no_snapshot_within_tolerance_of_21d": 1}
    assert res.meta["coverage_all_videos"]["views"] == {"7d": 0, "14d": 2, "21d": 1}
    assert len(build(rows, required=[]).table) == 3
    default = build(rows, required=None)  # None in the fixture means [] -> same as config override
    assert len(default.table) == 3


def test_duplicates_rule(build, snap) -> None:
    rows = [snap("a", 0, 100), snap("a", 0, 100),  # exact duplicate
            snap("a", 7 * D, 150), snap("a", 7 * D, 170), snap("a", 7 * D, 160)]  # conflicting
    res = build(rows)
    assert res.meta["skipped_input_rows"] == {"duplicate_exact": 1, "duplicate_conflicting": 2}
    assert _row(res, "a")["target_views_7d"] == pytest.approx(math.log1p(70))
    assert res.meta["row_counts"]["snapshot_rows_valid"] == 2
    assert res.meta["row_counts"]["snapshot_rows_read"] == 5


def test_snapshot1_is_first_and_features(build, snap) -> None:
    rows = [snap("a", 7 * D, 300, 30, 3), snap("a", 0, 100, 10, 2, comments_disabled="False", title="Hello world",
                                            tags='x|"y"|"z"', category_id="22")]
    r = _row(build(rows), "a")
    assert r["s1_views"] == 100 and r["s1_like_view_ratio"] == pytest.approx(0.1)
    assert r["s1_comment_view_ratio"] == pytest.approx(0.02)
    assert r["video_age_hours_at_snapshot1"] == pytest.approx(24.0)
    assert r["publish_hour_utc"] == pytest.approx(12.0)
    assert r["title"] == "Hello world" and r["tags"] == "x|y|z" and r["tags_count"] == 3
    assert r["category"] == "22" and r["language"] == "unknown"
    assert r["s1_comments_disabled"] == 0.0
    assert str(r["snapshot1_time"]) == "2024-01-01 12:00:00+00:00"
