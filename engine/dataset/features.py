"""Per-video feature rows: the one code path shared by the dataset builder and inference.

The builder calls :func:`row_features` once per video; the model's inference calls
:func:`inference_row`, which normalises its inputs and calls the same functions. Every value
depends only on snapshot 1, the video's result-store run, and channel history strictly
before snapshot 1 (see docs/dataset.md, "Leakage rules").
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.dataset.video_features import FeatureSettings, aggregate_run, duration_and_fps

NAN = math.nan

SNAPSHOT1_COLUMNS = [
    "s1_views", "s1_likes", "s1_comments", "s1_dislikes",
    "s1_like_view_ratio", "s1_comment_view_ratio", "s1_dislike_like_ratio",
    "s1_comments_disabled", "s1_ratings_disabled", "s1_trending_rank_pct",
]
VELOCITY_COLUMNS = ["s1_log_views_per_hour", "s1_log_likes_per_hour", "s1_log_comments_per_hour"]
TEMPORAL_COLUMNS = [
    "video_age_hours_at_snapshot1", "publish_hour_utc", "publish_weekday_utc",
    "snapshot1_weekday_utc", "duration_sec", "fps",
]
METADATA_COLUMNS = ["title_chars", "title_words", "tags_count"]
CHANNEL_HISTORY_COLUMNS = [
    "ch_hist_videos", "ch_hist_snapshots", "ch_hist_s1_views_median", "ch_hist_s1_likes_median",
    "ch_hist_views_max", "ch_hist_hours_since_last_video",
    "ch_hist_growth_1d_median", "ch_hist_growth_7d_median", "ch_hist_log_growth_per_day_median",
    "ch_hist_trending_days_mean",
]
DAY_NS = 86_400 * 10**9
GROWTH_TOLERANCE_NS = DAY_NS  # a prior video's +h snapshot is the one nearest first + h, within 1 day
CHANNEL_STATS_COLUMNS = ["ch_subscriber_count", "ch_total_videos", "ch_age_days_at_snapshot1"]
CATEGORICAL_COLUMNS = ["category", "language"]
TEXT_COLUMNS = ["title", "tags"]
BASE_FEATURE_COLUMNS = (
    SNAPSHOT1_COLUMNS + VELOCITY_COLUMNS + TEMPORAL_COLUMNS + METADATA_COLUMNS + CHANNEL_HISTORY_COLUMNS
    + CHANNEL_STATS_COLUMNS + CATEGORICAL_COLUMNS + TEXT_COLUMNS
)
MISSING_CATEGORY = "unknown"


def _num(value: Any) -> float:
    """A finite float, or NaN for None/empty/non-numeric."""
    if value is None or isinstance(value, str) and not value.strip():
        return NAN
    try:
        x = float(value)
    except (TypeError, ValueError):
        return NAN
    return x if math.isfinite(x) else NAN


def _ts(value: Any) -> pd.Timestamp | None:
    """A UTC timestamp from a Timestamp/datetime/ISO string/epoch ns, or None."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        return None
    if ts is pd.NaT:
        return None
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 and not math.isnan(a) else NAN


def _flag(value: Any) -> float:
    if isinstance(value, bool | np.bool_):
        return float(bool(value))
    if isinstance(value, str):
        low = value.strip().lower()
        return 1.0 if low in ("true", "1", "yes") else 0.0 if low in ("false", "0", "no") else NAN
    return _num(value)


def snapshot1_features(s1: Mapping[str, Any]) -> dict[str, float]:
    """Counters at snapshot 1, their ratios and the disabled flags."""
    views, likes, comments = _num(s1.get("views")), _num(s1.get("likes")), _num(s1.get("comments"))
    dislikes = _num(s1.get("dislikes"))
    return {
        "s1_views": views, "s1_likes": likes, "s1_comments": comments, "s1_dislikes": dislikes,
        "s1_like_view_ratio": _ratio(likes, views), "s1_comment_view_ratio": _ratio(comments, views),
        "s1_dislike_like_ratio": _ratio(dislikes, likes + dislikes if not math.isnan(dislikes) else NAN),
        "s1_comments_disabled": _flag(s1.get("comments_disabled")),
        "s1_ratings_disabled": _flag(s1.get("ratings_disabled")),
        "s1_trending_rank_pct": _rank_pct(s1.get("trending_rank_pct")),
    }


def _rank_pct(value: Any) -> float:
    x = _num(value)
    return x if 0.0 < x <= 1.0 else NAN


def velocity_features(counters: Mapping[str, float], age_hours: float) -> dict[str, float]:
    """log1p(counter at snapshot 1) - log1p(age in hours): the log of the average rate so far."""
    out = dict.fromkeys(VELOCITY_COLUMNS, NAN)
    if math.isnan(age_hours):
        return out
    la = math.log1p(max(age_hours, 0.0))
    for metric in ("views", "likes", "comments"):
        c = counters.get(f"s1_{metric}", NAN)
        if not math.isnan(c) and c >= 0:
            out[f"s1_log_{metric}_per_hour"] = math.log1p(c) - la
    return out


def temporal_features(s1: Mapping[str, Any], duration_sec: float, fps: float) -> dict[str, float]:
    """Age at snapshot 1 (hours, may be negative for bad metadata), publish hour/weekday (UTC)."""
    t1, pub = _ts(s1.get("snapshot_time")), _ts(s1.get("published_at"))
    age = (t1 - pub).total_seconds() / 3600.0 if t1 is not None and pub is not None else NAN
    return {
        "video_age_hours_at_snapshot1": age,
        "publish_hour_utc": float(pub.hour + pub.minute / 60.0) if pub is not None else NAN,
        "publish_weekday_utc": float(pub.weekday()) if pub is not None else NAN,
        "snapshot1_weekday_utc": float(t1.weekday()) if t1 is not None else NAN,
        "duration_sec": duration_sec, "fps": fps,
    }


def clean_tags(raw: Any) -> list[str]:
    """Split pipe-separated tags, strip the trending files' stray quotes; '[none]' means none."""
    if not isinstance(raw, str) or raw.strip() in ("", "[none]"):
        return []
    tags = [t.strip().strip('"').strip() for t in raw.split("|")]
    return [t for t in tags if t]


def _text(value: Any) -> str:
    return unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""


def metadata_features(s1: Mapping[str, Any]) -> dict[str, object]:
    """Category/language (categorical), title/tags (text) and their sizes."""
    title, tags = _text(s1.get("title")), clean_tags(s1.get("tags"))
    category = _text(s1.get("category_id")) or MISSING_CATEGORY
    language = _text(s1.get("language")) or MISSING_CATEGORY
    return {
        "title_chars": float(len(title)) if title else NAN,
        "title_words": float(len(title.split())) if title else NAN,
        "tags_count": float(len(tags)) if s1.get("tags") is not None else NAN,
        "category": category, "language": language, "title": title, "tags": "|".join(tags),
    }


@dataclass(frozen=True)
class ChannelHistory:
    """Snapshot rows of one channel, sorted by (time, video_id): the input of history features."""

    times: np.ndarray  # int64 ns since epoch, ascending
    video_ids: np.ndarray  # str
    views: np.ndarray  # float64
    likes: np.ndarray  # float64

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]] | pd.DataFrame) -> ChannelHistory:
        """From rows with video_id, snapshot_time, views, likes (list of dicts or a DataFrame)."""
        df = pd.DataFrame(records) if not isinstance(records, pd.DataFrame) else records
        if df.empty:
            return cls(np.zeros(0, "int64"), np.zeros(0, "U1"), np.zeros(0), np.zeros(0))
        times = pd.to_datetime(df["snapshot_time"], utc=True).astype("datetime64[ns, UTC]")
        frame = pd.DataFrame({
            "t": times.array.asi8, "v": df["video_id"].astype(str).to_numpy(),
            "views": pd.to_numeric(df["views"], errors="coerce").astype("float64"),
            "likes": pd.to_numeric(df.get("likes", pd.Series(NAN, index=df.index)), errors="coerce").astype("float64"),
        }).sort_values(["t", "v"], kind="stable")
        return cls(frame["t"].to_numpy("int64"), frame["v"].to_numpy(str), frame["views"].to_numpy("float64"),
                   frame["likes"].to_numpy("float64"))


def channel_history_features(history: ChannelHistory | None, snapshot_time: Any, video_id: str) -> dict[str, float]:
    """Features from the channel's snapshot rows strictly before ``snapshot_time``.

    Rows of ``video_id`` itself are ignored. A prior video's snapshot-1 values are its earliest
    row before ``snapshot_time``, so nothing at or after that instant can change any value.
    """
    out = dict.fromkeys(CHANNEL_HISTORY_COLUMNS, NAN)
    t1 = _ts(snapshot_time)
    if history is None or t1 is None:
        return out
    k = int(np.searchsorted(history.times, t1.value, side="left"))
    keep = history.video_ids[:k] != video_id
    times, vids = history.times[:k][keep], history.video_ids[:k][keep]
    views, likes = history.views[:k][keep], history.likes[:k][keep]
    out["ch_hist_snapshots"] = float(times.size)
    out["ch_hist_videos"] = 0.0
    if times.size == 0:
        return out
    _, first = np.unique(vids, return_index=True)
    out["ch_hist_videos"] = float(first.size)
    with np.errstate(all="ignore"):
        out["ch_hist_s1_views_median"] = float(np.nanmedian(views[first])) if np.isfinite(views[first]).any() else NAN
        out["ch_hist_s1_likes_median"] = float(np.nanmedian(likes[first])) if np.isfinite(likes[first]).any() else NAN
        out["ch_hist_views_max"] = float(np.nanmax(views)) if np.isfinite(views).any() else NAN
    out["ch_hist_hours_since_last_video"] = (t1.value - int(times[first].max())) / 3.6e12
    out.update(_prior_growth(times, vids, views))
    return out


def _prior_growth(times: np.ndarray, vids: np.ndarray, views: np.ndarray) -> dict[str, float]:
    """Growth of the channel's earlier videos, from their rows already cut at snapshot 1.

    Per prior video (rows sorted by time): ``log1p(max(v(+h) - v(first), 0)) - log1p(v(first))``
    for h = 1 and 7 days, where v(+h) is the row nearest to first + h days within one day (ties:
    the earlier); the log growth per day between its first and last row; its number of rows
    (trending days seen so far). Each is summarised by the median (days: the mean).
    """
    _, inv, counts = np.unique(vids, return_inverse=True, return_counts=True)
    order = np.lexsort((times, inv))
    g, t, v = inv[order], times[order], views[order]
    start = np.r_[0, np.cumsum(counts)[:-1]]
    t0, v0 = t[start][g], v[start][g]
    d = t - t0
    lv0 = np.log1p(np.clip(v[start], 0.0, None))
    out: dict[str, float] = {"ch_hist_trending_days_mean": float(counts.mean())}
    with np.errstate(all="ignore"):
        for h, col in ((1, "ch_hist_growth_1d_median"), (7, "ch_hist_growth_7d_median")):
            dist = np.abs(d - h * DAY_NS)
            ok = (dist <= GROWTH_TOLERANCE_NS) & (d > 0) & np.isfinite(v) & np.isfinite(v0)
            vals: list[float] = []
            if ok.any():
                idx = np.flatnonzero(ok)
                pick = idx[np.lexsort((t[idx], dist[idx], g[idx]))]
                best = pick[np.r_[True, g[pick][1:] != g[pick][:-1]]]
                vals = list(np.log1p(np.clip(v[best] - v0[best], 0.0, None)) - lv0[g[best]])
            out[col] = float(np.median(vals)) if vals else NAN
        end = start + counts - 1
        span = (t[end] - t[start]) / DAY_NS
        rate = (np.log1p(np.clip(v[end], 0.0, None)) - lv0) / np.where(span > 0, span, np.nan)
        rate = rate[np.isfinite(rate)]
        out["ch_hist_log_growth_per_day_median"] = float(np.median(rate)) if rate.size else NAN
    return out


def channel_stats_features(stats: Mapping[str, Any] | None, snapshot_time: Any) -> dict[str, float]:
    """Channel-index statistics. NB: they are as of the index fetch, not as of snapshot 1."""
    out = dict.fromkeys(CHANNEL_STATS_COLUMNS, NAN)
    if not stats:
        return out
    out["ch_subscriber_count"] = _num(stats.get("subscriber_count"))
    out["ch_total_videos"] = _num(stats.get("total_videos"))
    created, t1 = _ts(stats.get("created_at")), _ts(snapshot_time)
    if created is not None and t1 is not None:
        out["ch_age_days_at_snapshot1"] = (t1 - created).total_seconds() / 86400.0
    return out


def row_features(
    s1: Mapping[str, Any],
    video_values: Mapping[str, float] | None,
    history: ChannelHistory | None,
    channel_stats: Mapping[str, Any] | None,
) -> dict[str, object]:
    """All features of one video: base columns plus the ``<module>__<feature>`` values."""
    values = dict(video_values or {})
    duration, fps = duration_and_fps(values)
    row: dict[str, object] = {}
    counters = snapshot1_features(s1)
    row.update(counters)
    temporal = temporal_features(s1, duration, fps)
    row.update(velocity_features(counters, temporal["video_age_hours_at_snapshot1"]))
    row.update(temporal)
    row.update(metadata_features(s1))
    row.update(channel_history_features(history, s1.get("snapshot_time"), str(s1.get("video_id", ""))))
    row.update(channel_stats_features(channel_stats, s1.get("snapshot_time")))
    row.update({k: v for k, v in values.items() if not k.startswith("__")})
    return row


def inference_row(
    snapshot1: dict[str, Any],
    run_dir: str | None,
    meta: dict[str, Any],
    channel_history: dict[str, Any] | None = None,
) -> dict[str, object]:
    """Feature values of one video, computed exactly as the dataset builder computes them.

    Args:
        snapshot1: the video's first snapshot, keys as in a canonical snapshot row:
            ``video_id``, ``snapshot_time`` (datetime or ISO string, UTC assumed when naive),
            ``views``, ``likes``, ``comments``, optional ``dislikes``, ``published_at``,
            ``title``, ``tags`` (pipe-separated), ``category_id``, ``language``,
            ``comments_disabled``, ``ratings_disabled``, ``trending_rank_pct`` (position on the
            trending list as a fraction in (0, 1]: (rank - 0.5) / list length). Missing keys give NaN / "unknown".
        run_dir: the video's result-store run directory (manifest.json + NPZs), or None when
            there is none (video features are then NaN).
        meta: the parsed ``dataset_meta.json`` of the training set; ``meta["feature_columns"]``
            fixes the keys and their order, ``meta["feature_settings"]`` the aggregation knobs.
        channel_history: optional ``{"snapshots": [...], "stats": {...}}``. ``snapshots`` are
            rows (dicts or a DataFrame) of the channel's other videos with ``video_id``,
            ``snapshot_time``, ``views``, ``likes``; only rows strictly before
            ``snapshot1["snapshot_time"]`` are used. ``stats`` is the channel-index entry
            (``subscriber_count``, ``total_videos``, ``created_at``).

    Returns:
        ``{column: value}`` for every column of ``meta["feature_columns"]``, in that order:
        floats (NaN when unknown) for numeric columns, ``str`` for categorical and text columns.
    """
    settings = FeatureSettings.from_dict(meta.get("feature_settings"))
    video_values = aggregate_run(Path(run_dir), settings).values if run_dir else None
    history = stats = None
    if channel_history:
        snaps = channel_history.get("snapshots")
        history = ChannelHistory.from_records(snaps) if snaps is not None else None
        stats = channel_history.get("stats")
    row = row_features(snapshot1, video_values, history, stats)
    categorical = set(meta.get("categorical_columns", [])) | set(meta.get("text_columns", []))
    return {c: row.get(c, MISSING_CATEGORY if c in categorical else NAN) for c in meta["feature_columns"]}
