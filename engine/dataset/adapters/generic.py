"""The ``generic`` snapshot format: the canonical columns under their own names.

Required: ``video_id``, ``snapshot_time`` (ISO 8601; naive = UTC), ``views``, ``likes``,
``comments``. Optional: ``platform_id``, ``dislikes``, ``channel_id``, ``channel_title``,
``published_at``, ``title``, ``tags``, ``category_id``, ``language``, ``comments_disabled``,
``ratings_disabled``, ``trending_rank_pct`` (position on a ranked list as a fraction in (0, 1]).
Other columns are ignored.
"""

from __future__ import annotations

import pandas as pd

from engine.dataset.adapters.base import (
    EXCEL_ERRORS,
    SkipLog,
    common_columns,
    finish,
    parse_counter,
    parse_time,
    rank_pct,
    require_columns,
)
from engine.dataset.settings import DatasetSettings

NAME = "generic"
REQUIRED = ["video_id", "snapshot_time", "views", "likes", "comments"]


def adapt(raw: pd.DataFrame, path: str, settings: DatasetSettings, skips: SkipLog) -> pd.DataFrame:
    require_columns(raw, path, REQUIRED, NAME)
    df = common_columns(raw, settings)
    df["video_id"] = raw["video_id"].astype(str).str.strip()
    df["_raw_time"] = raw["snapshot_time"]
    df["snapshot_time"] = parse_time(raw["snapshot_time"])
    df["_raw_pub"] = raw["published_at"] if "published_at" in raw.columns else ""
    df["published_at"] = parse_time(df["_raw_pub"].astype(str))
    for c in ("views", "likes", "comments"):
        df[c] = parse_counter(raw[c], path, c, skips, required=True)
    df["dislikes"] = parse_counter(raw["dislikes"], path, "dislikes", skips, required=False) \
        if "dislikes" in raw.columns else float("nan")
    if "trending_rank_pct" in raw.columns:
        df["trending_rank_pct"] = rank_pct(raw["trending_rank_pct"])
    id_ok = (df["video_id"] != "") & ~df["video_id"].isin(EXCEL_ERRORS)
    return finish(df, path, skips, id_ok)
