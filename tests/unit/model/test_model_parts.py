"""Baselines, metrics and calibration on hand-made numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from engine.model import baselines, calibration, metrics
from engine.model.data import FeatureSpec, prepare


def test_loglinear_recovers_line_and_median() -> None:
    rng = np.random.default_rng(0)
    views = np.expm1(rng.uniform(5, 15, 200))
    frame = pd.DataFrame({"s1_views": views})
    y = 0.8 * np.log1p(views) + 1.5
    fitted = baselines.fit_all(frame, y, "views")
    assert abs(fitted["loglinear"]["a"] - 0.8) < 1e-6 and abs(fitted["loglinear"]["b"] - 1.5) < 1e-6
    assert fitted["loglinear"]["column"] == "s1_views"
    assert np.allclose(baselines.predict("loglinear", frame, fitted["loglinear"]), y)
    assert fitted["median"]["value"] == float(np.median(y))
    json.dumps(fitted)  # plain JSON


def test_metrics_values_and_buckets() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 2.0, 2.5, 5.0])
    ages = np.array([1.0, 30.0, 60.0, 500.0])
    out = metrics.score(y, p, p - 1, p + 1, np.full(4, 0.5), ages, {"median": np.full(4, 2.5)}, 0.5)
    assert out["mae"] == 0.5 and out["n"] == 4
    assert out["rmse"] == round(float(np.sqrt((0.25 + 0 + 0.25 + 1) / 4)), 6)
    assert out["spearman"] == 1.0
    assert out["coverage80"] == 1.0
    assert [b["n"] for b in out["by_age"].values()] == [1, 1, 1, 0, 1]
    assert out["baseline_median_mae"] == 1.0


def test_calibration_hits_level_and_is_json() -> None:
    rng = np.random.default_rng(1)
    sd = rng.uniform(0.2, 1.0, 4000)
    y = rng.normal(0, 2.0 * sd)  # the model under-states its error by a factor of 2
    mu = np.zeros_like(y)
    cal = calibration.fit(y, mu, sd, 0.8, 0.5)
    assert 1.7 < cal["interval_scale"] < 2.3
    low, high = calibration.interval(mu, sd, cal)
    assert abs(np.mean((y >= low) & (y <= high)) - 0.8) < 0.02
    conf = calibration.confidence(sd, cal)
    assert ((conf >= 0) & (conf <= 1)).all()
    assert np.corrcoef(conf, -sd)[0, 1] > 0.9  # wider predictions, lower confidence
    assert json.loads(json.dumps(cal)) == cal


def test_prepare_handles_missing_values() -> None:
    frame = pd.DataFrame({"a": [1.0, np.inf, None], "c": ["x", None, "y"], "title": ["a b", None, "c"],
                          "tags": ['a|"b"', "", None]})
    x = prepare(frame, FeatureSpec(("a", "missing_num"), ("c",), ("title", "tags")))
    assert list(x.columns) == ["a", "missing_num", "c", "title", "tags"]
    assert np.isnan(x["a"].iloc[1]) and x["missing_num"].isna().all()
    assert x["c"].tolist() == ["x", "__missing__", "y"]
    assert x["tags"].tolist() == ["a b", "", ""]
