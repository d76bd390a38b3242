"""``[model] refit = true``: early stopping + calibration on validation, then every model and the
baselines refitted on train + validation with the early-stopped tree counts."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostRegressor

from engine.model import baselines, device
from engine.model.artifacts import load_run
from engine.model.data import Target, has_target, load_dataset, prepare, target_values, targets_of
from engine.model.evaluate import evaluate
from engine.model.settings import ModelSettings
from engine.model.splits import make_split
from engine.model.synthetic import write_synthetic
from engine.model.train import train

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_refit_is_the_default() -> None:
    assert ModelSettings().refit is True


@pytest.fixture(scope="module")
def refit_run(trained: tuple[Path, list[dict]], tiny: ModelSettings) -> Path:
    assert tiny.refit  # the shared fixture run uses the default, refit on
    return trained[0]


@pytest.fixture(scope="module")
def plain_run(synth_dir: Path, tiny: ModelSettings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("plain") / "run-a"
    train(synth_dir, replace(tiny, refit=False), run_dir)
    return run_dir


def _metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text())


def test_refit_models_see_validation_rows(refit_run: Path, plain_run: Path, synth_dir: Path,
                                          tiny: ModelSettings) -> None:
    m, plain = _metrics(refit_run), _metrics(plain_run)
    assert m["fitted_on"] == {"validation": "train", "test": "train+validation"}
    assert plain["fitted_on"] == {"validation": "train", "test": "train"}
    ds = load_dataset(synth_dir)
    split = make_split(ds.frame, replace(tiny, refit=True), targets_of(ds.meta))
    x = prepare(ds.frame, load_run(refit_run).spec)
    stored = json.loads((refit_run / "baselines.json").read_text())
    files = json.loads((refit_run / "models.json").read_text())
    for name, t in m["targets"].items():
        rows = t["rows"]
        assert t["refit"]["rows"] == rows["train"] + rows["validation"] > rows["train"]
        # each saved model has exactly the early-stopped tree count of its member; the first is best_iteration + 1
        assert t["refit"]["iterations"][0] == t["best_iteration"] + 1
        saved = files[name]["members"] + files[name]["point"]
        assert len(saved) == len(t["refit"]["iterations"]) == 2 * tiny.ensemble_size
        for f, n in zip(saved, t["refit"]["iterations"], strict=True):
            assert CatBoostRegressor().load_model(str(refit_run / f)).tree_count_ == n
        # validation is scored exactly as without refit (early-stopped models, baselines fitted on train)
        assert t["validation"] == plain["targets"][name]["validation"]
        assert t["best_iteration"] == plain["targets"][name]["best_iteration"]
        # the stored (inference / evaluate) baselines are fitted on train + validation
        target = Target(t["metric"], t["horizon_days"])
        tv = np.flatnonzero(has_target(ds.frame, target) & (split.mask("train") | split.mask("validation")))
        expect = baselines.fit_all(x.iloc[tv], target_values(ds.frame, target)[tv], target.metric)
        assert stored[name] == json.loads(json.dumps(expect))
    assert (refit_run / "learning_curves.jsonl").read_bytes() == (plain_run / "learning_curves.jsonl").read_bytes()
    assert (refit_run / "calibration.json").read_bytes() == (plain_run / "calibration.json").read_bytes()
    assert "refitted" not in (plain_run / "report.md").read_text()
    assert m["targets"]["views_7d"]["test"] != plain["targets"]["views_7d"]["test"]
    assert "refitted on train + validation" in (refit_run / "report.md").read_text()


def test_refit_is_deterministic(refit_run: Path, synth_dir: Path, tiny: ModelSettings, tmp_path: Path) -> None:
    train(synth_dir, tiny, tmp_path / "run-a")  # same name: run_id is part of metrics.json
    for f in ("metrics.json", "calibration.json", "baselines.json", "models.json"):
        assert (tmp_path / "run-a" / f).read_bytes() == (refit_run / f).read_bytes(), f


def test_evaluate_on_test_rows_matches_stored_test_metrics(refit_run: Path, synth_dir: Path, tiny: ModelSettings,
                                                           tmp_path: Path) -> None:
    ds = load_dataset(synth_dir)
    split = make_split(ds.frame, tiny, targets_of(ds.meta))
    out = tmp_path / "test-rows"
    out.mkdir()
    pd.read_parquet(synth_dir / "dataset.parquet")[split.mask("test")].to_parquet(out / "dataset.parquet")
    shutil.copy(synth_dir / "dataset_meta.json", out / "dataset_meta.json")
    got = evaluate(load_run(refit_run), out)["targets"]["views_7d"]["evaluation"]
    want = _metrics(refit_run)["targets"]["views_7d"]["test"]
    for k in ("n", "mae", "rmse", "baseline_mae", "baseline_median_mae", "coverage80"):
        assert got[k] == pytest.approx(want[k], abs=1e-9), k


def test_target_without_training_rows_stays_skipped_with_refit(tmp_path: Path, tiny: ModelSettings) -> None:
    """Like 14d/21d on the US bench: validation rows but no training row. Refit takes its tree count and
    calibration from an early-stopped fit, so such a target is still skipped (documented)."""
    ds = write_synthetic(tmp_path / "ds", n=300, seed=9)
    frame = pd.read_parquet(ds / "dataset.parquet")
    meta = load_dataset(ds).meta
    split = make_split(load_dataset(ds).frame, tiny, targets_of(meta))
    frame.loc[split.mask("train"), "mask_views_14d"] = np.int8(0)
    frame.to_parquet(ds / "dataset.parquet", index=False)
    result = train(ds, replace(tiny, refit=True, ensemble_size=1), tmp_path / "run")
    assert result.metrics["split"]["per_target"]["views_14d"]["validation"] > 0
    why = result.metrics["skipped"]["views_14d"]
    assert why.startswith("too few rows (train 0,") and "refit needs an early-stopped fit" in why
    assert not (tmp_path / "run" / "model_views_14d.cbm").exists()
    assert "views_7d" in result.metrics["targets"]


def test_refit_gpu_refusal_falls_back_to_cpu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            tiny: ModelSettings) -> None:
    if device.cuda_devices() > 0:
        pytest.skip("a real GPU is present")
    ds = write_synthetic(tmp_path / "ds", n=200, seed=7)
    monkeypatch.setattr(device, "resolve", lambda _t: "GPU")
    events: list[dict] = []
    settings = replace(tiny, iterations=10, refit=True, ensemble_size=1, point_loss="uncertainty")
    result = train(ds, settings, tmp_path / "run", on_event=events.append)
    n_fallbacks = len([e for e in events if e["type"] == "train_device_fallback"])
    assert n_fallbacks == 2 * len(result.metrics["targets"])  # early-stopped fit and refit, per target
    assert all("refit" in t for t in result.metrics["targets"].values())
