"""Multi-horizon targets and masks.

For snapshot 1 at ``t1`` and horizon ``h`` days, the target snapshot is the video's snapshot
nearest to ``t1 + h`` with ``|t - (t1 + h)| <= tolerance`` and ``t > t1``; on a tie the earlier
one. ``delta = value_h - value_1``; a negative delta is clipped to 0 (``clip``) or made missing
(``missing``) and counted either way. ``target_{metric}_{h}d = log1p(delta)`` and
``mask_{metric}_{h}d`` is 1, else the target is NaN and the mask 0 (no snapshot in the window,
a missing counter, or a negative delta under ``missing``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

METRICS = ("views", "likes", "comments")


def target_column(metric: str, h: int) -> str:
    return f"target_{metric}_{h}d"


def mask_column(metric: str, h: int) -> str:
    return f"mask_{metric}_{h}d"


@dataclass
class TargetResult:
    table: pd.DataFrame  # one row per video (aligned with the snapshot-1 frame)
    has_snapshot: dict[int, np.ndarray]  # per horizon: a target snapshot exists
    target_time: dict[int, pd.Series]  # per horizon: time of the chosen snapshot (NaT if none)
    negative: dict[str, int] = field(default_factory=dict)  # "{metric}_{h}d" -> count


def compute_targets(snaps: pd.DataFrame, s1: pd.DataFrame, horizons: list[int], tolerance_hours: float,
                    negative_rule: str) -> TargetResult:
    """Targets for every video of ``s1`` (snapshot-1 rows) from all its snapshots ``snaps``."""
    key = ["platform_id", "video_id"]
    base = s1[key + ["snapshot_time", *METRICS]].rename(
        columns={"snapshot_time": "t1", **{m: f"{m}_1" for m in METRICS}})
    joined = snaps[key + ["snapshot_time", *METRICS]].merge(base, on=key, how="inner")
    tol = pd.Timedelta(hours=tolerance_hours)
    out = pd.DataFrame(index=s1.index)
    has: dict[int, np.ndarray] = {}
    when: dict[int, pd.Series] = {}
    negative: dict[str, int] = {}
    for h in horizons:
        dist = (joined["snapshot_time"] - (joined["t1"] + pd.Timedelta(days=h))).abs()
        cand = joined.loc[(dist <= tol) & (joined["snapshot_time"] > joined["t1"])].assign(_d=dist)
        best = cand.sort_values(key + ["_d", "snapshot_time"], kind="stable").drop_duplicates(key, keep="first")
        hit = s1[key].merge(best, on=key, how="left")
        found = hit["snapshot_time"].notna().to_numpy()
        has[h] = found
        when[h] = hit["snapshot_time"].set_axis(s1.index)
        for m in METRICS:
            delta = (hit[m] - hit[f"{m}_1"]).to_numpy(dtype=np.float64)
            neg = found & (delta < 0)
            negative[f"{m}_{h}d"] = int(neg.sum())
            delta = np.where(neg, 0.0 if negative_rule == "clip" else np.nan, delta)
            ok = found & np.isfinite(delta)
            out[target_column(m, h)] = np.where(ok, np.log1p(np.where(ok, delta, 0.0)), np.nan)
            out[mask_column(m, h)] = ok.astype(np.int8)
    ordered = [target_column(m, h) for h in horizons for m in METRICS] + \
              [mask_column(m, h) for h in horizons for m in METRICS]
    return TargetResult(out[ordered], has, when, negative)
