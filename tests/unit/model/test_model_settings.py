"""[model] settings: defaults, validation of cuts and bounds."""

from __future__ import annotations

import pytest

from engine.config import ConfigError, parse_settings


def test_defaults_are_valid() -> None:
    s = parse_settings({}).model
    assert s.split == "time" and s.task_type == "auto" and s.seed == 0


@pytest.mark.parametrize("model", [
    {"cut1": 0.9, "cut2": 0.5},
    {"cut1": "2018-03-15", "cut2": 0.9},
    {"cut1": 1.5, "cut2": 2.0},
    {"cut1": "not a date", "cut2": "2018-01-01"},
    {"split": "random"},
    {"depth": 0},
    {"unknown_key": 1},
])
def test_bad_values_are_refused(model: dict) -> None:
    with pytest.raises(ConfigError):
        parse_settings({"model": model})


def test_date_cuts() -> None:
    s = parse_settings({"model": {"cut1": "2018-02-20", "cut2": "2018-03-15"}}).model
    assert s.cut2 == "2018-03-15"
