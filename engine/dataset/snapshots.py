"""Cleaning the canonical snapshot rows: duplicates, ordering, snapshot 1 per video.

Duplicate rule for one (platform_id, video_id, snapshot_time): rows equal in every column
but the row number (and list position) are exact duplicates and only the first is kept (``duplicate_exact``);
rows that disagree keep the one with the largest (views, likes, comments), ties to the
later row in the file, the others are counted as ``duplicate_conflicting``. Counters are
cumulative, so the largest values are the latest observation of that instant.
"""

from __future__ import annotations

import pandas as pd

from engine.dataset.adapters.base import POSITIONAL_COLUMNS, SkipLog

KEY = ["platform_id", "video_id", "snapshot_time"]


def deduplicate(df: pd.DataFrame, path: str, skips: SkipLog) -> pd.DataFrame:
    """Apply the duplicate rule; return rows sorted by (platform_id, video_id, snapshot_time)."""
    content = [c for c in df.columns if c not in POSITIONAL_COLUMNS]
    exact = df.duplicated(subset=content, keep="first")
    skips.add("duplicate_exact", path, df.loc[exact, "source_row"].to_numpy(), "same values as an earlier row")
    df = df.loc[~exact]
    df = df.sort_values(KEY + ["views", "likes", "comments", "source_row"], kind="stable")
    conflict = df.duplicated(subset=KEY, keep="last")
    skips.add("duplicate_conflicting", path, df.loc[conflict, "source_row"].to_numpy(),
              "another row of the same video and time has larger counters (kept)")
    return df.loc[~conflict].reset_index(drop=True)


def first_snapshots(df: pd.DataFrame) -> pd.DataFrame:
    """Snapshot 1 of every video: its earliest row (``df`` sorted by :data:`KEY`)."""
    return df.drop_duplicates(subset=["platform_id", "video_id"], keep="first").reset_index(drop=True)
