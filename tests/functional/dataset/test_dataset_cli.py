"""``vidops dataset build`` end to end: files, job event log, progress lines, usage errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
import pytest

from console.cli import CliContext, UsageError
from console.commands import dataset_cmd
from engine.config import load_settings
from engine.events import iter_events


def _run(argv: list[str], workspace: Path) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    dataset_cmd.register(sub)
    args = parser.parse_args(argv)
    return int(args.handler(args, CliContext(workspace, None, load_settings())))


def _snapshots(path: Path) -> Path:
    rows = []
    for v, base in (("a", 100), ("b", 50)):
        for day in (0, 7, 14, 21):
            rows.append({"video_id": v, "snapshot_time": f"2024-01-{1 + day:02d}T00:00:00Z",
                         "views": base * (day + 1), "likes": day, "comments": day, "channel_id": "UC1"})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_build_writes_outputs_and_events(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snaps = _snapshots(tmp_path / "s.csv")
    out = tmp_path / "out"
    rc = _run(["dataset", "build", "--snapshots", str(snaps), "--out", str(out), "--csv",
               "--required-horizons", "14,21"], tmp_path / "ws")
    assert rc == 0
    for name in ("dataset.parquet", "dataset.csv", "dataset_meta.json", "report.md"):
        assert (out / name).is_file(), name
    meta = json.loads((out / "dataset_meta.json").read_text())
    assert meta["row_counts"]["rows_written"] == 2 and meta["required_horizons_days"] == [14, 21]
    assert meta["coverage"]["views"] == {"7d": 2, "14d": 2, "21d": 2}
    assert meta["extractor_config_hash"] is None and meta["inputs"]["snapshots"]["sha256"]
    table = pd.read_parquet(out / "dataset.parquet")
    assert list(table.columns) == [c["name"] for c in meta["columns"]]
    assert set(table["channel_key"]) == {"UC1"}
    (job,) = (tmp_path / "ws" / "jobs").iterdir()
    assert job.name.startswith("dataset-")
    types = [e["type"] for e in iter_events(job / "events.jsonl")]
    assert types[0] == "dataset_started" and types[-1] == "dataset_finished" and "dataset_progress" in types
    err = capsys.readouterr().err
    assert "dataset: features" in err and "2 rows in" in err


def test_build_warns_of_result_store_runs_under_another_config(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    # It said only "videos with result-store features: 0" (report.md) and nothing on the terminal.
    from engine.store import ResultStore

    store = tmp_path / "store"
    for video in ("a", "b"):
        rd = ResultStore(store).run_dir("youtube", video, "r1")
        rd.start({"platform_id": "youtube", "video_id": video, "video_path": f"/v/{video}.mp4"}, "r1", "f" * 16)
        rd.write_component("probe", version="1", summary={"duration_s": 3.0}, arrays=None)
        rd.complete()
    snaps = _snapshots(tmp_path / "s.csv")
    out = tmp_path / "out"
    assert _run(["dataset", "build", "--snapshots", str(snaps), "--format", "generic", "--out", str(out),
                 "--result-store", str(store), "--required-horizons", "none"], tmp_path / "ws") == 0
    err = capsys.readouterr().err
    assert ("dataset: warning: 2 of 2 videos have result-store runs only under other extract config hashes "
            "than the current one") in err and f"{'f' * 16} (2 videos)" in err
    assert "point --config at the config those runs used" in err
    meta = json.loads((out / "dataset_meta.json").read_text())
    assert meta["row_counts"]["videos_with_video_features"] == 0 and len(meta["warnings"]) == 1
    assert "## Warnings" in (out / "report.md").read_text()


def test_usage_errors_and_failed_event(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown --format"):
        _run(["dataset", "build", "--snapshots", "x.csv", "--format", "xlsx", "--out", str(tmp_path)], tmp_path)
    with pytest.raises(UsageError, match="--required-horizons"):
        _run(["dataset", "build", "--snapshots", "x.csv", "--required-horizons", "7,x", "--out", str(tmp_path)],
             tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("video_id,views\na,1\n")
    with pytest.raises(UsageError, match="missing required column"):
        _run(["dataset", "build", "--snapshots", str(bad), "--out", str(tmp_path / "o")], tmp_path / "ws")
    (job,) = (tmp_path / "ws" / "jobs").iterdir()
    events = list(iter_events(job / "events.jsonl"))
    assert events[-1]["type"] == "dataset_failed" and "bad.csv" in events[-1]["message"]
    with pytest.raises(UsageError, match="not among horizons_days"):
        _run(["dataset", "build", "--snapshots", str(_snapshots(tmp_path / "s.csv")), "--required-horizons", "30",
              "--out", str(tmp_path / "o2")], tmp_path / "ws2")


def test_mistyped_result_store_and_other_separators_are_named(tmp_path: Path) -> None:
    snaps = _snapshots(tmp_path / "s.csv")
    with pytest.raises(UsageError, match="--result-store .*nope: no such directory"):
        _run(["dataset", "build", "--snapshots", str(snaps), "--result-store", str(tmp_path / "nope"),
              "--out", str(tmp_path / "o")], tmp_path / "ws")
    semi = tmp_path / "semi.csv"
    semi.write_text(snaps.read_text().replace(",", ";"))
    with pytest.raises(UsageError, match="seems to be separated by ';'"):
        _run(["dataset", "build", "--snapshots", str(semi), "--out", str(tmp_path / "o")], tmp_path / "ws")


def test_fetch_channels_needs_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("YOUTUBE_API_KEY", raising=False)
    snaps = _snapshots(tmp_path / "s.csv")
    with pytest.raises(UsageError, match="YOUTUBE_API_KEY"):
        _run(["dataset", "fetch-channels", "--snapshots", str(snaps), "--index", str(tmp_path / "i.json")], tmp_path)
    with pytest.raises(UsageError, match=r"\.json"):
        _run(["dataset", "fetch-channels", "--snapshots", str(snaps), "--index", str(tmp_path / "i.csv")], tmp_path)


def test_pipeline_output_shows_the_dataset_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    from console.commands.pipeline_cmd import StageDisplay

    StageDisplay()({"type": "dataset_finished", "rows": 2, "duration_s": 0.1, "warnings": ["2 of 2 videos have ..."]})
    assert "   dataset: warning: 2 of 2 videos have ..." in capsys.readouterr().out.splitlines()
