"""The model commands end to end: train -> report -> evaluate -> predict (single, batch)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from console.cli import main
from engine.atomic import atomic_write_json
from engine.model.synthetic import write_synthetic

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = json.loads((ROOT / "schemas" / "prediction.schema.json").read_text())
CONFIG = """
[model]
iterations = 40
early_stopping_rounds = 20
depth = 4
learning_rate = 0.2
task_type = "cpu"
progress_min_interval_s = 0.0
"""
SNAPSHOT = {"video_id": "newvid", "snapshot_time": "2018-04-01T14:00:00Z", "published_at": "2018-03-31T10:00:00Z",
            "views": 250000, "likes": 9000, "comments": 800, "dislikes": 100, "category_id": "10",
            "title": "official music video", "tags": 'music|"video"'}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    (root / "config.toml").write_text(CONFIG)
    ds = write_synthetic(root / "ds", n=500, seed=2)
    ws = root / "ws"
    run_dir = ws / "artifacts" / "run1"
    rc = main(["--workspace", str(ws), "--config", str(root / "config.toml"), "train", "--dataset", str(ds),
               "--out", str(run_dir), "--job-id", "job1"])
    assert rc == 0
    return {"root": root, "ds": ds, "ws": ws, "run": run_dir}


def _cli(env: dict[str, Path], *argv: str) -> int:
    return main(["--workspace", str(env["ws"]), "--config", str(env["root"] / "config.toml"), *argv])


def _result_run(root: Path, config_hash: str, video_id: str = "newvid") -> Path:
    run = root / "store" / "youtube" / video_id / "r1"
    run.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run / "manifest.json", {
        "schema_version": 1, "platform_id": "youtube", "video_id": video_id, "run_id": "r1",
        "config_hash": config_hash, "status": "complete",
        "components": {"probe": {"status": "done", "version": "1", "summary": {"duration_s": 212.0}}}})
    return run


def test_train_prints_table_and_writes_events(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    events = [json.loads(line) for line in (env["ws"] / "jobs" / "job1" / "events.jsonl").read_text().splitlines()]
    types = [e["type"] for e in events]
    assert types[0] == "train_started" and types[-1] == "train_finished" and "train_progress" in types
    done = [e for e in events if e["type"] == "train_target_done"]
    assert len(done) == 9 and "mae" in done[0]["metrics"]
    assert (env["run"] / "model_views_7d.cbm").is_file()


def test_report_reprints_stored_report(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert _cli(env, "report", str(env["run"])) == 0
    assert capsys.readouterr().out == (env["run"] / "report.md").read_text()
    assert _cli(env, "report", "run1") == 0  # a run id in the workspace works too
    assert _cli(env, "report", "no-such-run") == 2


def test_evaluate_json(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert _cli(env, "evaluate", "--model", str(env["run"]), "--dataset", str(env["ds"]), "--since", "2018-03-01",
                "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    v = doc["metrics"]["views"]["7d"]
    assert {"mae", "rmse", "spearman", "n", "baseline_mae", "coverage80"} <= set(v) and v["n"] > 0
    assert set(doc["metrics"]) == {"views", "likes", "comments"}
    assert _cli(env, "evaluate", "--model", str(env["run"]), "--dataset", str(env["root"])) == 2


def test_predict_run_is_valid_and_byte_identical(env: dict[str, Path]) -> None:
    run = _result_run(env["root"], "synthetic-extract")
    outs = []
    for i in range(2):
        out = env["root"] / f"pred{i}.json"
        assert _cli(env, "predict", "--model", str(env["run"]), "--run", str(run), "--snapshot", json.dumps(SNAPSHOT),
                    "--out", str(out)) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    doc = json.loads(outs[0])
    jsonschema.validate(doc, SCHEMA)
    v7 = doc["predictions"]["views"]["7d"]
    assert v7["low"] <= v7["value"] <= v7["high"] and 0 <= v7["confidence"] <= 1
    assert v7["total"] == SNAPSHOT["views"] + v7["value"]
    assert set(doc["predictions"]["views"]) == {"7d", "14d", "21d"}
    assert doc["features_used"]["probe__duration_s"] == 212.0
    assert doc["model_info"]["dataset_hash"] == "synthetic-content" and doc["run_id"] == "r1"


def test_predict_refuses_other_extractor_config(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run = _result_run(env["root"], "another-hash", video_id="other")
    capsys.readouterr()
    assert _cli(env, "predict", "--model", str(env["run"]), "--run", str(run), "--snapshot", json.dumps(SNAPSHOT)) == 2
    assert "config_hash" in capsys.readouterr().err


def test_predict_batch(env: dict[str, Path]) -> None:
    run = _result_run(env["root"], "synthetic-extract", video_id="b2")
    _result_run(env["root"], "synthetic-extract", video_id="b1")
    batch = env["ws"] / "batches" / "bt1"
    batch.mkdir(parents=True)
    lines = [{"key": f"youtube__{v}", "platform_id": "youtube", "video_id": v, "video_path": f"/x/{v}.mp4", "run_id": "r1"}
             for v in ("b2", "b1", "b3")]
    (batch / "videos.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    snaps = env["root"] / "snaps.jsonl"
    snaps.write_text("".join(json.dumps({**SNAPSHOT, "video_id": v}) + "\n" for v in ("b1", "b2")))
    store_cfg = env["root"] / "batch_config.toml"
    store_cfg.write_text(CONFIG + f'\n[paths]\nresult_store = "{run.parents[2]}"\n')
    out = env["root"] / "preds.jsonl"
    rc = main(["--workspace", str(env["ws"]), "--config", str(store_cfg), "predict", "--model", str(env["run"]),
               "--batch", "bt1", "--snapshots", str(snaps), "--out", str(out)])
    assert rc == 0
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["video_id"] for d in docs] == ["b1", "b2"]  # sorted; b3 has no snapshot/run
    for d in docs:
        jsonschema.validate(d, SCHEMA)


def test_train_bad_dataset_is_usage_error(env: dict[str, Path]) -> None:
    assert _cli(env, "train", "--dataset", str(env["root"] / "missing")) == 2


def test_predict_batch_takes_run_ids_from_state_log(env: dict[str, Path]) -> None:
    from engine.events import EventWriter

    run = _result_run(env["root"], "synthetic-extract", video_id="s1")
    batch = env["ws"] / "batches" / "bt2"
    batch.mkdir(parents=True)
    lines = [{"key": f"youtube__{v}", "platform_id": "youtube", "video_id": v, "video_path": f"/x/{v}.mp4"}
             for v in ("s1", "s2")]
    (batch / "videos.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    with EventWriter(batch / "state.jsonl") as w:
        w.emit("video_succeeded", key="youtube__s1", run_id="r1", wall_s=1.0)
        w.emit("video_failed", key="youtube__s2", error_class="X", error_message="boom")
    snaps = env["root"] / "snaps2.json"
    snaps.write_text(json.dumps([{**SNAPSHOT, "video_id": v} for v in ("s1", "s2")]))
    cfg = env["root"] / "batch_config2.toml"
    cfg.write_text(CONFIG + f'\n[paths]\nresult_store = "{run.parents[2]}"\n')
    out = env["root"] / "preds2.jsonl"
    assert main(["--workspace", str(env["ws"]), "--config", str(cfg), "predict", "--model", str(env["run"]),
                 "--batch", "bt2", "--snapshots", str(snaps), "--out", str(out)]) == 0
    docs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [d["video_id"] for d in docs] == ["s1"] and docs[0]["run_id"] == "r1"


def _err(env: dict[str, Path], capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    rc = _cli(env, *argv)
    return rc, capsys.readouterr().err


@pytest.mark.parametrize(("snapshot", "message"), [
    ("{}", "missing key 'snapshot_time'; missing key 'views'; missing key 'likes'; missing key 'comments'"),
    (json.dumps({**SNAPSHOT, "views": "lots"}), "views: expected a number >= 0, got \"lots\""),
    (json.dumps({**SNAPSHOT, "likes": [1]}), "likes: expected a number >= 0, got [1]"),
    (json.dumps({**SNAPSHOT, "views": -5}), "views: expected a number >= 0, got -5"),
    ('{"views": NaN}', "views: expected a number >= 0, got nan"),
    (json.dumps({**SNAPSHOT, "comments": True}), "comments: expected a number >= 0, got true"),
    (json.dumps({**SNAPSHOT, "snapshot_time": "yesterday"}), "snapshot_time: not an ISO 8601 time: 'yesterday'"),
    (json.dumps({**SNAPSHOT, "snapshot_time": 1520000000}), "snapshot_time: expected an ISO 8601 time"),
    (json.dumps({**SNAPSHOT, "published_at": "garbage"}), "published_at: not an ISO 8601 time"),
    ("[1, 2]", "inline JSON: expected a JSON object, got list"),
    ('{"views": 1,', "inline JSON: not valid JSON"),
])
def test_predict_refuses_a_snapshot_the_builder_would_skip(env: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                                          snapshot: str, message: str) -> None:
    run = _result_run(env["root"], "synthetic-extract")
    rc, err = _err(env, capsys, "predict", "--model", str(env["run"]), "--run", str(run), "--snapshot", snapshot)
    assert rc == 2 and "--snapshot" in err and message in err and "Traceback" not in err


def test_predict_snapshot_file_errors_name_the_file(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run = _result_run(env["root"], "synthetic-extract")
    bad = env["root"] / "bad_snap.json"
    bad.write_text('{"views": 1,\n')
    rc, err = _err(env, capsys, "predict", "--model", str(env["run"]), "--run", str(run), "--snapshot", str(bad))
    assert rc == 2 and f"{bad}: not valid JSON" in err
    rc, err = _err(env, capsys, "predict", "--model", str(env["run"]), "--run", str(run), "--snapshot",
                   json.dumps(SNAPSHOT), "--out", str(env["root"]))
    assert rc == 2 and "is a directory" in err
    (env["root"] / "a_file").write_text("x")
    rc, err = _err(env, capsys, "predict", "--model", str(env["run"]), "--run", str(run), "--snapshot",
                   json.dumps(SNAPSHOT), "--out", str(env["root"] / "a_file" / "p.json"))
    assert rc == 2 and "cannot write" in err and "Traceback" not in err


def test_damaged_runs_are_usage_errors_naming_the_file(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    run = _result_run(env["root"], "synthetic-extract")
    snap = json.dumps(SNAPSHOT)
    cut = env["root"] / "damaged_cbm"
    shutil.copytree(env["run"], cut)
    data = (cut / "model_views_7d.cbm").read_bytes()
    (cut / "model_views_7d.cbm").write_bytes(data[: len(data) // 3])  # a truncated copy
    rc, err = _err(env, capsys, "predict", "--model", str(cut), "--run", str(run), "--snapshot", snap)
    assert rc == 2 and "model_views_7d.cbm: cannot load the CatBoost model" in err and "Traceback" not in err
    rc, err = _err(env, capsys, "evaluate", "--model", str(cut), "--dataset", str(env["ds"]))
    assert rc == 2 and "model_views_7d.cbm" in err
    gone = env["root"] / "missing_cbm"
    shutil.copytree(env["run"], gone)
    (gone / "model_likes_14d.cbm").unlink()
    rc, err = _err(env, capsys, "predict", "--model", str(gone), "--run", str(run), "--snapshot", snap)
    assert rc == 2 and "model_likes_14d.cbm of likes_14d missing" in err
    bad_json = env["root"] / "bad_json"
    shutil.copytree(env["run"], bad_json)
    (bad_json / "calibration.json").write_text("{")
    rc, err = _err(env, capsys, "predict", "--model", str(bad_json), "--run", str(run), "--snapshot", snap)
    assert rc == 2 and "calibration.json: cannot read" in err
    (bad_json / "calibration.json").write_text((env["run"] / "calibration.json").read_text())
    (bad_json / "models.json").write_text("[]")
    rc, err = _err(env, capsys, "predict", "--model", str(bad_json), "--run", str(run), "--snapshot", snap)
    assert rc == 2 and "models.json: expected a JSON object" in err
    (bad_json / "config.toml").unlink()
    rc, err = _err(env, capsys, "evaluate", "--model", str(bad_json), "--dataset", str(env["ds"]))
    assert rc == 2 and "no config.toml" in err
    (bad_json / "report.md").unlink()
    rc, err = _err(env, capsys, "report", str(bad_json))
    assert rc == 2 and "report.md: cannot read" in err


@pytest.mark.parametrize("since", ["nan", "", "garbage", "2018-02-30"])
def test_evaluate_since_that_is_not_a_date(env: dict[str, Path], capsys: pytest.CaptureFixture[str], since: str) -> None:
    rc, err = _err(env, capsys, "evaluate", "--model", str(env["run"]), "--dataset", str(env["ds"]), "--since", since)
    assert rc == 2 and "--since: not a date" in err


def test_evaluate_with_no_row_left_is_a_usage_error(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    rc, err = _err(env, capsys, "evaluate", "--model", str(env["run"]), "--dataset", str(env["ds"]),
                   "--since", "2099-01-01")
    assert rc == 2 and "no row with a target" in err and "at or after --since 2099-01-01" in err


def test_predict_batch_input_errors(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run = _result_run(env["root"], "synthetic-extract", video_id="e1")
    batch = env["ws"] / "batches" / "bt3"
    batch.mkdir(parents=True)
    (batch / "videos.jsonl").write_text(json.dumps({"key": "youtube__e1", "platform_id": "youtube", "video_id": "e1",
                                                    "run_id": "r1"}) + "\n")
    cfg = env["root"] / "batch_config3.toml"
    cfg.write_text(CONFIG + f'\n[paths]\nresult_store = "{run.parents[2]}"\n')
    out = env["root"] / "preds3.jsonl"

    def batch_run(snaps: Path, *extra: str) -> tuple[int, str]:
        capsys.readouterr()
        rc = main(["--workspace", str(env["ws"]), "--config", str(cfg), "predict", "--model", str(env["run"]),
                   "--batch", "bt3", "--snapshots", str(snaps), "--out", str(out), *extra])
        return rc, capsys.readouterr().err

    snaps = env["root"] / "snaps3.jsonl"
    snaps.write_text(json.dumps({**SNAPSHOT, "video_id": "e1"}) + "\n" + '{"video_id": "e2",\n')
    rc, err = batch_run(snaps)
    assert rc == 2 and f"{snaps}:2: not valid JSON" in err
    snaps.write_text(json.dumps({"views": 1}) + "\n")
    rc, err = batch_run(snaps)
    assert rc == 2 and "line 1: expected a snapshot object with a video_id" in err
    rc, err = batch_run(env["root"] / "nope.jsonl")
    assert rc == 2 and "nope.jsonl: cannot read" in err
    snaps.write_text(json.dumps({**SNAPSHOT, "video_id": "e1", "views": "lots"}) + "\n")
    rc, err = batch_run(snaps)
    assert rc == 0 and "skipped youtube__e1: invalid snapshot: views: expected a number" in err
    assert out.read_text() == ""
    rc, err = batch_run(snaps, "--snapshot", json.dumps(SNAPSHOT))
    assert rc == 2 and "not --snapshot" in err
    (batch / "videos.jsonl").write_text("not json\n")
    snaps.write_text(json.dumps({**SNAPSHOT, "video_id": "e1"}) + "\n")
    rc, err = batch_run(snaps)
    assert rc == 2 and "videos.jsonl:1: not valid JSON" in err


def test_train_out_into_a_directory_of_other_files_is_refused(env: dict[str, Path],
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    mine = env["root"] / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    rc, err = _err(env, capsys, "train", "--dataset", str(env["ds"]), "--out", str(mine))
    assert rc == 2 and "not a model run" in err and (mine / "notes.txt").read_text() == "keep"


def test_train_out_dot_and_job_id_outside_the_workspace_are_refused(env: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    here = env["root"] / "cwd_run"
    here.mkdir()
    monkeypatch.chdir(here)
    rc, err = _err(env, capsys, "train", "--dataset", str(env["ds"]), "--out", ".")
    assert rc == 2 and "is the current directory" in err and list(here.iterdir()) == []
    rc, err = _err(env, capsys, "train", "--dataset", str(env["ds"]), "--out", str(env["root"] / "r_evil"),
                   "--job-id", "../../evil")
    assert rc == 2 and "--job-id '../../evil'" in err
    assert not (env["root"] / "evil").exists() and not (env["root"] / "r_evil").exists()


def test_predict_run_with_an_unreadable_manifest(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run = env["root"] / "store" / "youtube" / "broken" / "r1"
    run.mkdir(parents=True)
    (run / "manifest.json").write_text("{")
    rc, err = _err(env, capsys, "predict", "--model", str(env["run"]), "--run", str(run), "--snapshot",
                   json.dumps(SNAPSHOT))
    assert rc == 2 and "no readable manifest.json there" in err


def test_help_says_what_a_snapshot_holds_and_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    for command, wanted in (("predict", "snapshot_time (ISO 8601), views, likes, comments required"),
                            ("evaluate", "Exit code 2 when the dataset lacks the model's columns")):
        capsys.readouterr()
        with pytest.raises(SystemExit) as stop:
            main([command, "--help"])
        assert stop.value.code == 0
        assert wanted in " ".join(capsys.readouterr().out.split())


def test_train_on_gpu_without_cuda_is_a_config_error(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    from engine.model import device

    if device.cuda_devices() > 0:
        pytest.skip("a real GPU is present")
    cfg = env["root"] / "gpu.toml"
    cfg.write_text(CONFIG.replace('task_type = "cpu"', 'task_type = "gpu"'))
    capsys.readouterr()
    rc = main(["--workspace", str(env["ws"]), "--config", str(cfg), "train", "--dataset", str(env["ds"]),
               "--out", str(env["root"] / "gpu_run")])
    err = capsys.readouterr().err
    assert rc == 2 and "sees no CUDA device" in err and 'task_type = "auto"' in err and "Traceback" not in err


def test_evaluate_on_the_training_dataset_warns(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    cut2 = json.loads((env["run"] / "metrics.json").read_text())["split"]["cut2"]
    rc, err = _err(env, capsys, "evaluate", "--model", str(env["run"]), "--dataset", str(env["ds"]))
    assert rc == 0 and "is the dataset model run1 was trained on" in err and f"--since {cut2}" in err
    rc, err = _err(env, capsys, "evaluate", "--model", str(env["run"]), "--dataset", str(env["ds"]), "--since", cut2)
    assert rc == 0 and "warning" not in err  # only held-out rows


def test_predict_run_of_another_video_is_refused(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run = _result_run(env["root"], "synthetic-extract", video_id="someone_else")
    rc, err = _err(env, capsys, "predict", "--model", str(env["run"]), "--run", str(run), "--snapshot",
                   json.dumps(SNAPSHOT))
    assert rc == 2 and "holds video 'someone_else' but the snapshot is for 'newvid'" in err


def test_train_without_out_on_a_damaged_meta(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    ds = env["root"] / "ds_bad_meta"
    shutil.copytree(env["ds"], ds)
    (ds / "dataset_meta.json").write_text("{broken")
    rc, err = _err(env, capsys, "train", "--dataset", str(ds))  # the run id is derived from the meta
    assert rc == 2 and "dataset_meta.json: not valid JSON" in err and "Traceback" not in err
