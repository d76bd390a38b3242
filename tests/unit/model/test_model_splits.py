"""Splits: time cuts, the age split, the channel-group constraint and per-target sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.model.data import targets_of
from engine.model.settings import ModelSettings
from engine.model.splits import SPLITTERS, make_split
from engine.model.synthetic import make_frame, meta_for


def _frame() -> pd.DataFrame:
    return make_frame(300, seed=3)


def test_registry_has_time_and_age() -> None:
    assert set(SPLITTERS) == {"time", "age"}


def test_time_split_orders_rows_without_channel_constraint() -> None:
    df = _frame()
    res = make_split(df, ModelSettings(channel_groups=False, cut1="2018-02-01", cut2="2018-03-01"), [])
    t = df["snapshot1_time"]
    cut1, cut2 = pd.Timestamp("2018-02-01", tz="UTC"), pd.Timestamp("2018-03-01", tz="UTC")
    assert (t[res.mask("train")] < cut1).all()
    assert ((t[res.mask("validation")] >= cut1) & (t[res.mask("validation")] < cut2)).all()
    assert (t[res.mask("test")] >= cut2).all()
    assert res.summary["rows"]["dropped"] == 0


def test_channel_constraint_puts_each_channel_in_one_split() -> None:
    df = _frame()
    df.loc[df.index[:10], "channel_key"] = "shared"  # one channel spread over the whole period
    res = make_split(df, ModelSettings(cut1=0.5, cut2=0.75), targets_of(meta_for(df)))
    kept = df.assign(split=res.labels)
    kept = kept[kept.split != "dropped"]
    assert (kept.groupby("channel_key")["split"].nunique() == 1).all()
    first = df[df.channel_key == "shared"].sort_values(["snapshot1_time", "video_id"]).index[0]
    assert res.labels[df.index.get_loc(first)] != "dropped"
    assert res.summary["dropped_by_channel_constraint"] == int((res.labels == "dropped").sum())
    per = res.summary["per_target"]["views_7d"]
    mask = df["mask_views_7d"].to_numpy() == 1
    assert per["train"] == int((mask & (res.labels == "train")).sum())


def test_age_split() -> None:
    df = _frame()
    res = make_split(df, ModelSettings(split="age", age_threshold_hours=30.0, channel_groups=False), [])
    age = df["video_age_hours_at_snapshot1"].to_numpy()
    assert (age[res.mask("train")] < 30).all()
    assert (age[~res.mask("train")] >= 30).all()
    assert res.mask("validation").any() and res.mask("test").any()
    again = make_split(df, ModelSettings(split="age", age_threshold_hours=30.0, channel_groups=False), [])
    assert np.array_equal(res.labels, again.labels)
