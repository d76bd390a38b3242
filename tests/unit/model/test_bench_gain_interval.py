"""bench/model_quality.py's bootstrap interval recomputes the test rows of a saved run exactly."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from engine.model.settings import ModelSettings

BENCH = Path(__file__).resolve().parents[3] / "bench" / "model_quality.py"


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("model_quality_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gain_interval_matches_the_stored_test_metrics(trained: tuple[Path, list[dict]], synth_dir: Path,
                                                      tiny: ModelSettings) -> None:
    run_dir, _ = trained
    ci = _bench().gain_interval(run_dir, synth_dir, tiny, "views_7d", n_boot=300)  # type: ignore[attr-defined]
    test = json.loads((run_dir / "metrics.json").read_text())["targets"]["views_7d"]["test"]
    assert ci["n"] == test["n"]
    assert abs(ci["gain"] - (1 - test["mae"] / test["baseline_loglinear_mae"])) < 1e-3
    assert ci["ci95_low"] < ci["gain"] < ci["ci95_high"]
    assert 0.0 <= ci["share_at_least_35pct"] <= 1.0
