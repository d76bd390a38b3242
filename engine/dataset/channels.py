"""Channels: the stable channel key, the optional channel index, per-channel history.

``channel_key`` is the channel id when one is known (from the snapshot row, else the index's
video -> channel map, else the index's unique title -> id match); otherwise
``"title:" + sha256(normalised channel_title)[:16]`` where normalised = NFKC, whitespace
collapsed, casefolded; with no title either it is ``"video:<platform_id>/<video_id>"`` (a
channel of its own). A video's key comes from its snapshot-1 row only.

The channel index is a CSV/parquet file with ``channel_id`` and optional ``channel_title``,
``subscriber_count``, ``total_videos``, ``created_at``, or the JSON cache the YouTube API
client writes (``{"channels": {id: {...}}, "videos": {video_id: channel_id}}``).
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.dataset.adapters.base import DatasetInputError, SkipLog, read_table, require_columns
from engine.dataset.features import ChannelHistory, _num, _ts

STAT_FIELDS = ("channel_title", "subscriber_count", "total_videos", "created_at")


def normalise_title(title: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", title).split()).casefold()


def title_key(title: str) -> str:
    return "title:" + hashlib.sha256(normalise_title(title).encode("utf-8")).hexdigest()[:16]


@dataclass
class ChannelIndex:
    """channel_id -> stats, video_id -> channel_id, unique normalised title -> channel_id."""

    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    videos: dict[str, str] = field(default_factory=dict)

    def title_map(self) -> dict[str, str]:
        seen: dict[str, set[str]] = {}
        for cid, stats in self.channels.items():
            title = stats.get("channel_title")
            if isinstance(title, str) and title.strip():
                seen.setdefault(normalise_title(title), set()).add(cid)
        return {t: next(iter(ids)) for t, ids in seen.items() if len(ids) == 1}

    def to_json(self) -> dict[str, Any]:
        return {"channels": dict(sorted(self.channels.items())), "videos": dict(sorted(self.videos.items()))}


def _log_bad_stats(df: pd.DataFrame, path: str, skips: SkipLog) -> None:
    """Stats that will read as NaN although the cell is not empty: counted like bad snapshot values."""
    # read as the features read them (features._num/_ts), so exactly the values that turn NaN are logged
    rows = df.index.to_numpy()
    for col, unreadable in (("subscriber_count", lambda v: math.isnan(_num(v))),
                            ("total_videos", lambda v: math.isnan(_num(v))), ("created_at", lambda v: _ts(v) is None)):
        if col in df.columns:
            text = df[col].astype(str).str.strip()
            bad = np.array([t != "" and unreadable(t) for t in text], dtype=bool)
            skips.add_values(f"channel_bad_{col}_set_missing", path, rows[bad], df[col][bad], col)


def load_index(path: str | Path, skips: SkipLog | None = None) -> ChannelIndex:
    """Read a channel index (CSV/parquet table or the API client's JSON cache); a table's
    unreadable stats are logged in ``skips`` (they become NaN features)."""
    p = Path(path)
    if p.name.lower().endswith(".json"):
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DatasetInputError(f"{p}: cannot read channel index JSON: {exc}") from None
        if not isinstance(data, dict):
            raise DatasetInputError(f"{p}: channel index JSON must be an object")
        channels, videos = data.get("channels", {}), data.get("videos", {})
        # the API client's layout; anything else would fail later with a bare TypeError
        if not isinstance(channels, dict) or not all(isinstance(v, dict) for v in channels.values()):
            raise DatasetInputError(f'{p}: "channels" must map channel ids to objects of channel stats')
        if not isinstance(videos, dict) or not all(isinstance(v, str) for v in videos.values()):
            raise DatasetInputError(f'{p}: "videos" must map video ids to channel ids (strings)')
        return ChannelIndex(dict(channels), dict(videos))
    df = read_table(p)
    require_columns(df, str(p), ["channel_id"], "channel index")
    if skips is not None:
        _log_bad_stats(df, str(p), skips)
    index = ChannelIndex()
    for row in df.itertuples(index=True):
        cid = str(row.channel_id).strip()
        if not cid:
            raise DatasetInputError(f"{p}:{row.Index}: empty channel_id")
        index.channels[cid] = {f: str(getattr(row, f)) for f in STAT_FIELDS if f in df.columns}
    return index


def channel_keys(s1: pd.DataFrame, index: ChannelIndex | None) -> tuple[pd.Series, pd.Series]:
    """(channel_key, resolved channel_id or "") for each snapshot-1 row."""
    titles = index.title_map() if index else {}
    keys: list[str] = []
    ids: list[str] = []
    for pid, vid, cid, title in zip(s1["platform_id"], s1["video_id"], s1["channel_id"], s1["channel_title"],
                                    strict=True):
        cid = str(cid).strip()
        if not cid and index is not None:
            cid = index.videos.get(vid, "") or titles.get(normalise_title(str(title)), "")
        ids.append(cid)
        if cid:
            keys.append(cid)
        elif str(title).strip():
            keys.append(title_key(str(title)))
        else:
            keys.append(f"video:{pid}/{vid}")
    return pd.Series(keys, index=s1.index, dtype=str), pd.Series(ids, index=s1.index, dtype=str)


def histories(snaps: pd.DataFrame, video_keys: pd.DataFrame) -> dict[str, ChannelHistory]:
    """Every channel's snapshot rows (all videos, all times) as :class:`ChannelHistory`.

    ``video_keys`` maps (platform_id, video_id) -> channel_key. History features later keep
    only rows strictly before the video's snapshot 1.
    """
    rows = snaps[["platform_id", "video_id", "snapshot_time", "views", "likes"]].merge(
        video_keys, on=["platform_id", "video_id"], how="inner")
    rows["_t"] = rows["snapshot_time"].astype("datetime64[ns, UTC]").array.asi8
    rows = rows.sort_values(["channel_key", "_t", "video_id"], kind="stable")
    keys = rows["channel_key"].to_numpy(str)
    times, vids = rows["_t"].to_numpy("int64"), rows["video_id"].to_numpy(str)
    views, likes = rows["views"].to_numpy("float64"), rows["likes"].to_numpy("float64")
    out: dict[str, ChannelHistory] = {}
    if keys.size == 0:
        return out
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], keys.size]
    for a, b in zip(starts, ends, strict=True):
        out[str(keys[a])] = ChannelHistory(times[a:b], vids[a:b], views[a:b], likes[a:b])
    return out


def stats_for(index: ChannelIndex | None, channel_id: str) -> dict[str, Any] | None:
    return index.channels.get(channel_id) if index is not None and channel_id else None
