"""Fixtures for the dataset-builder tests: build a dataset from generated rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.config import Settings, load_settings
from engine.dataset.builder import BuildInputs, BuildResult, build_dataset

T0 = pd.Timestamp("2024-01-01T12:00:00Z")


def snap(video: str, hours: float, views: Any, likes: Any = 10, comments: Any = 1, **extra: Any) -> dict[str, Any]:
    """One generic snapshot row ``hours`` after T0."""
    t = T0 + pd.Timedelta(hours=hours)
    row = {"video_id": video, "snapshot_time": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "views": views,
           "likes": likes, "comments": comments, "channel_title": extra.pop("channel_title", "chan"),
           "published_at": extra.pop("published_at", "2023-12-31T12:00:00Z")}
    row.update(extra)
    return row


@pytest.fixture(name="snap")
def snap_fixture() -> Callable[..., dict[str, Any]]:
    """The :func:`snap` row generator (test modules cannot import conftest under importlib mode)."""
    return snap


@pytest.fixture
def settings() -> Settings:
    return load_settings()


@pytest.fixture
def build(tmp_path: Path, settings: Settings) -> Callable[..., BuildResult]:
    """build(rows, required=[], overrides={}, name="x", **inputs) -> BuildResult."""
    counter = {"n": 0}

    def _build(rows: list[dict[str, Any]], required: list[int] | None = None,
               overrides: dict[str, Any] | None = None, **kw: Any) -> BuildResult:
        counter["n"] += 1
        path = tmp_path / f"snaps{counter['n']}.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        s = settings
        if overrides:  # {"negative_delta": "missing"}: fields of [dataset]
            s = dataclasses.replace(settings, dataset=dataclasses.replace(settings.dataset, **overrides))
        inputs = BuildInputs(snapshots=str(path), out=str(tmp_path / f"out{counter['n']}"), fmt="generic",
                             required_horizons=[] if required is None else required, **kw)
        return build_dataset(s, inputs)

    return _build
