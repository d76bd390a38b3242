"""A small synthetic dataset that follows the dataset contract, for tests and demos.

``write_synthetic(dir)`` writes ``dataset.parquet`` + ``dataset_meta.json`` with the columns
the dataset builder produces (ids, ``snapshot1_time``, ``s1_*``/``ch_*``/module features,
title/tags, targets and masks for views/likes/comments at 7/14/21 days).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.atomic import atomic_write_json

WORDS = ("music", "official", "video", "trailer", "live", "vlog", "review", "funny", "news", "game")


def make_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_channels = max(4, n // 3)
    channel = rng.integers(0, n_channels, n)
    start = pd.Timestamp("2018-01-01", tz="UTC")
    channel_day = rng.uniform(0, 120, n_channels)  # channels are active for a few days each
    t = start + pd.to_timedelta(channel_day[channel] + rng.uniform(0, 3, n), unit="D")
    age = rng.gamma(1.5, 30.0, n)
    ch_quality = rng.normal(0, 1, n_channels)[channel]
    s1_views = np.expm1(rng.normal(11, 1.5, n) + 0.5 * ch_quality).round()
    s1_likes = (s1_views * rng.uniform(0.01, 0.05, n)).round()
    s1_comments = (s1_likes * rng.uniform(0.05, 0.2, n)).round()
    category = rng.choice(["10", "24", "22", "1"], n)
    frame: dict[str, Any] = {
        "platform_id": "youtube",
        "video_id": [f"v{i:05d}" for i in range(n)],
        "channel_key": [f"ch{c:04d}" for c in channel],
        "snapshot1_time": t,
        "video_age_hours_at_snapshot1": age,
        "s1_views": s1_views, "s1_likes": s1_likes, "s1_comments": s1_comments,
        "ch_hist_videos": rng.integers(0, 20, n).astype(float),
        "category": category,
        "probe__duration_s": np.where(rng.uniform(size=n) < 0.1, np.nan, rng.uniform(30, 900, n)),
        "title": [" ".join(rng.choice(WORDS, 4)) for _ in range(n)],
        "tags": ["|".join(rng.choice(WORDS, 3)) for _ in range(n)],
    }
    df = pd.DataFrame(frame)
    counters = {"views": s1_views, "likes": s1_likes, "comments": s1_comments}
    for metric, base in counters.items():
        for h in (7, 14, 21):
            growth = 0.9 * np.log1p(base) + 0.3 * ch_quality - 0.004 * age + 0.05 * h + (category == "10") * 0.4
            y = growth + rng.normal(0, 0.4, n)
            avail = rng.uniform(size=n) < {7: 0.8, 14: 0.6, 21: 0.45}[h]
            df[f"target_{metric}_{h}d"] = np.where(avail, y, np.nan)
            df[f"mask_{metric}_{h}d"] = avail.astype("int8")
    return df


def meta_for(df: pd.DataFrame) -> dict[str, Any]:
    features = ["video_age_hours_at_snapshot1", "s1_views", "s1_likes", "s1_comments", "ch_hist_videos",
                "category", "probe__duration_s", "title", "tags"]
    return {
        "schema_version": 1,
        "feature_columns": features,
        "categorical_columns": ["category"],
        "text_columns": ["title", "tags"],
        "target_columns": [c for c in df.columns if c.startswith("target_")],
        "mask_columns": [c for c in df.columns if c.startswith("mask_")],
        "horizons_days": [7, 14, 21],
        "metrics": ["views", "likes", "comments"],
        "content_hash": "synthetic-content",
        "config_hash": "synthetic-config",
        "extractor_config_hash": "synthetic-extract",
    }


def write_synthetic(directory: str | Path, n: int = 400, seed: int = 0) -> Path:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    df = make_frame(n, seed)
    df.to_parquet(out / "dataset.parquet", index=False)
    atomic_write_json(out / "dataset_meta.json", meta_for(df))
    return out
