"""Training end to end on synthetic data: artifacts, events, reproducibility, evaluation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.model.artifacts import load_run
from engine.model.evaluate import as_json, evaluate
from engine.model.settings import ModelSettings
from engine.model.train import train

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TARGETS = [f"{m}_{h}d" for m in ("views", "likes", "comments") for h in (7, 14, 21)]


def test_artifacts_written_without_pickle(trained: tuple[Path, list[dict]]) -> None:
    run_dir, _ = trained
    names = {p.name for p in run_dir.iterdir()}
    for t in TARGETS:
        assert f"model_{t}.cbm" in names
    for f in ("feature_names.json", "config.toml", "metrics.json", "report.md", "learning_curves.jsonl",
              "baselines.json", "calibration.json", "dataset_meta.json", "run_info.json"):
        assert f in names
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".joblib", ".tmp"))]
    run = load_run(run_dir)
    cfg = run.config["run"]
    assert cfg["dataset_content_hash"] == "synthetic-content" and cfg["extractor_config_hash"] == "synthetic-extract"
    assert cfg["seed"] == 0 and cfg["vidops_version"]
    assert set(run.calibration) == set(TARGETS)
    assert "category" in run.spec.categorical
    m = run.metrics["targets"]["views_7d"]
    for split in ("validation", "test"):
        s = m[split]
        assert s["n"] > 0 and s["mae"] is not None and "coverage80" in s and "baseline_loglinear_mae" in s
        assert set(s["by_age"]) == {"0-24h", "24-48h", "48-72h", "72-168h", "168h+"}
    assert m["calibration_test"]
    assert run.metrics["split"]["per_target"]["views_7d"]["train"] > 0
    curve = [json.loads(line) for line in (run_dir / "learning_curves.jsonl").read_text().splitlines()]
    assert {"target", "iteration", "train_loss", "val_loss"} <= set(curve[0])


def test_events(trained: tuple[Path, list[dict]], tiny: ModelSettings) -> None:
    run_dir, events = trained
    types = [e["type"] for e in events]
    assert types[0] == "train_started" and types[-1] == "train_finished"
    assert types.count("train_target_done") == 9
    progress = [e for e in events if e["type"] == "train_progress"]
    assert progress and {"target", "iteration", "train_loss", "val_loss"} <= set(progress[0])
    # every progress_every-th iteration (throttled), and each target's final one for its chart
    assert all(e["iteration"] % tiny.progress_every == 0 for e in progress[:1])
    curves: dict[str, list[int]] = {}
    for e in progress:
        curves.setdefault(e["target"], []).append(e["iteration"])
    done = {e["target"]: e for e in events if e["type"] == "train_target_done"}
    assert set(curves) == set(done)
    for target, its in curves.items():
        assert its == sorted(its) and len(its) >= 2 and its[0] == 0, (target, its)  # 0-based, as the curves
        assert all(i % tiny.progress_every == 0 for i in its[:-1]), (target, its)
    last = {}
    for line in (run_dir / "learning_curves.jsonl").read_text().splitlines():
        row = json.loads(line)
        last[row["target"]] = max(last.get(row["target"], -1), row["iteration"])
    assert {t: its[-1] for t, its in curves.items()} == last


def test_retraining_gives_identical_metrics(trained: tuple[Path, list[dict]], synth_dir: Path, tmp_path: Path,
                                            tiny: ModelSettings) -> None:
    run_dir, _ = trained
    train(synth_dir, tiny, tmp_path / "run-a")  # same name: run_id is part of metrics.json
    assert (tmp_path / "run-a" / "metrics.json").read_bytes() == (run_dir / "metrics.json").read_bytes()
    assert (tmp_path / "run-a" / "calibration.json").read_bytes() == (run_dir / "calibration.json").read_bytes()


def test_failure_emits_train_failed(tmp_path: Path, tiny: ModelSettings) -> None:
    events: list[dict] = []
    with pytest.raises(FileNotFoundError):
        train(tmp_path / "nope", tiny, tmp_path / "run", on_event=events.append)
    assert events[-1]["type"] == "train_failed" and "nope" in events[-1]["message"]


def test_evaluate_since_and_json(trained: tuple[Path, list[dict]], synth_dir: Path) -> None:
    run = load_run(trained[0])
    full = as_json(evaluate(run, synth_dir))
    late = as_json(evaluate(run, synth_dir, since="2018-03-15"))
    v = full["metrics"]["views"]["7d"]
    assert {"mae", "rmse", "spearman", "n", "baseline_mae", "coverage80"} <= set(v)
    assert 0 < late["metrics"]["views"]["7d"]["n"] < v["n"]
