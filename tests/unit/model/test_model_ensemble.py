"""Seed ensembles and MAE point models: files, models.json, loading back, combination of mean and variance."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.model import predictor
from engine.model.artifacts import load_run, model_file
from engine.model.data import Target, prepare
from engine.model.evaluate import evaluate
from engine.model.settings import ModelSettings
from engine.model.synthetic import write_synthetic
from engine.model.train import train

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_model_file_names() -> None:
    t = Target("views", 7)
    assert model_file(t) == "model_views_7d.cbm"
    assert model_file(t, 2) == "model_views_7d.s2.cbm"
    assert model_file(t, 0, "point") == "model_views_7d.point.cbm"
    assert model_file(t, 1, "point") == "model_views_7d.point.s1.cbm"


@pytest.fixture(scope="module")
def ens_run(tmp_path_factory: pytest.TempPathFactory, tiny: ModelSettings) -> Path:
    ds = write_synthetic(tmp_path_factory.mktemp("ens") / "ds", n=300, seed=11)
    settings = replace(tiny, ensemble_size=3, point_loss="mae")
    run = tmp_path_factory.mktemp("ens") / "run"
    train(ds, settings, run)
    return run


def test_ensemble_files_and_loading(ens_run: Path) -> None:
    files = json.loads((ens_run / "models.json").read_text())
    entry = files["views_7d"]
    assert entry["members"] == ["model_views_7d.cbm", "model_views_7d.s1.cbm", "model_views_7d.s2.cbm"]
    assert entry["point"] == ["model_views_7d.point.cbm", "model_views_7d.point.s1.cbm", "model_views_7d.point.s2.cbm"]
    for name in entry["members"] + entry["point"]:
        assert (ens_run / name).is_file()
    run = load_run(ens_run)
    target = Target("views", 7)
    ens = run.model(target)
    assert len(ens.members) == 3 and len(ens.point) == 3
    seeds = {m.get_params()["random_seed"] for m in ens.members}
    assert seeds == {0, 1, 2}


def test_ensemble_combination(ens_run: Path) -> None:
    run = load_run(ens_run)
    target = Target("views", 7)
    ens = run.model(target)
    frame = pd.read_parquet(Path(run.config["run"]["dataset_dir"]) / "dataset.parquet")
    x = prepare(frame.head(50), run.spec)
    mean, sd = predictor.raw_predict(ens, x, run.spec)
    pool = predictor.make_pool(x, run.spec)
    outs = np.stack([np.asarray(m.predict(pool)).reshape(len(x), -1) for m in ens.members])
    var = outs[:, :, 1].mean(axis=0) + outs[:, :, 0].var(axis=0)
    point = np.mean([np.asarray(m.predict(pool)).ravel() for m in ens.point], axis=0)
    np.testing.assert_allclose(mean, point)
    np.testing.assert_allclose(sd, np.sqrt(var))
    # without point models the mean is the members' average
    mean2, sd2 = predictor.raw_predict(predictor.Ensemble(ens.members), x, run.spec)
    np.testing.assert_allclose(mean2, outs[:, :, 0].mean(axis=0))
    np.testing.assert_allclose(sd2, sd)


def test_ensemble_evaluate(ens_run: Path) -> None:
    run = load_run(ens_run)
    res = evaluate(run, Path(run.config["run"]["dataset_dir"]))
    assert np.isfinite(res["targets"]["views_7d"]["evaluation"]["mae"])


def test_run_without_models_json_loads_single_model(trained: tuple[Path, list[dict]], tmp_path: Path) -> None:
    import shutil

    run_dir = tmp_path / "old"
    shutil.copytree(trained[0], run_dir)
    (run_dir / "models.json").unlink()
    ens = load_run(run_dir).model(Target("views", 7))
    assert len(ens.members) == 1 and ens.point == []
