"""The ``trending`` format: Kaggle "Trending YouTube Video Statistics" country files.

Choices (see docs/dataset.md and ../shared/data/trending/PROVENANCE.md):

* ``trending_date`` is ``yy.dd.mm`` without a time of day. The snapshot time is that date at
  ``[dataset] trending_snapshot_hour_utc`` (default 14:00 UTC: the first whole hour at or after
  every same-day ``publish_time`` in the files, so no video is observed before it exists).
  Every snapshot of the file gets the same time of day, so day spacing is exact.
* ``publish_time`` is ISO 8601 UTC -> ``published_at``.
* ``comment_count`` -> ``comments``; ``dislikes`` kept; ``channel_title`` is the only channel
  key (no channel id) -> ``channel_title``; ``category_id``, ``title``, ``tags``,
  ``comments_disabled``, ``ratings_disabled`` copied when present. No ``language`` column.
* ``video_id`` must be 11 characters of ``[A-Za-z0-9_-]``: Excel error tokens such as
  ``#NAME?`` / ``#VALUE!`` are skipped as ``invalid_video_id``.
* ``trending_rank_pct``: the row's position on its day's list, ``(i + 0.5) / n`` for the i-th
  (0-based) of the ``n`` rows with that ``trending_date`` in file order (the collector wrote
  each day's list in YouTube's trending order). Known at snapshot time, like the counters.
* Duplicate days and counters that go down are handled downstream (snapshots / targets).
"""

from __future__ import annotations

import pandas as pd

from engine.dataset.adapters.base import (
    SkipLog,
    common_columns,
    finish,
    parse_counter,
    parse_time,
    require_columns,
)
from engine.dataset.settings import DatasetSettings

NAME = "trending"
REQUIRED = ["video_id", "trending_date", "channel_title", "publish_time", "views", "likes", "comment_count"]
VIDEO_ID_PATTERN = r"^[A-Za-z0-9_-]{11}$"


def adapt(raw: pd.DataFrame, path: str, settings: DatasetSettings, skips: SkipLog) -> pd.DataFrame:
    require_columns(raw, path, REQUIRED, NAME)
    df = common_columns(raw, settings)
    df["video_id"] = raw["video_id"].astype(str).str.strip()
    df["_raw_time"] = raw["trending_date"]
    day = pd.to_datetime(raw["trending_date"].astype(str).str.strip(), format="%y.%d.%m", utc=True, errors="coerce")
    offset = pd.Timedelta(hours=settings.trending_snapshot_hour_utc).round("s")
    df["snapshot_time"] = (day + offset).astype("datetime64[ns, UTC]")
    df["_raw_pub"] = raw["publish_time"]
    df["published_at"] = parse_time(raw["publish_time"])
    df["views"] = parse_counter(raw["views"], path, "views", skips, required=True)
    df["likes"] = parse_counter(raw["likes"], path, "likes", skips, required=True)
    df["comments"] = parse_counter(raw["comment_count"], path, "comments", skips, required=True)
    df["dislikes"] = parse_counter(raw["dislikes"], path, "dislikes", skips, required=False) \
        if "dislikes" in raw.columns else float("nan")
    day_key = raw["trending_date"].astype(str).str.strip()
    pos = day_key.groupby(day_key, sort=False).cumcount().astype("float64")
    size = day_key.groupby(day_key, sort=False).transform("size").astype("float64")
    df["trending_rank_pct"] = (pos + 0.5) / size
    id_ok = df["video_id"].str.fullmatch(VIDEO_ID_PATTERN).fillna(False).astype(bool)
    return finish(df, path, skips, id_ok)
