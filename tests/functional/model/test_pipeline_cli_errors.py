"""`vidops pipeline` on bad input: exit 2 with the cause, before any stage where it can be checked."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.cli import main

CONFIG = """
[model]
iterations = 20
early_stopping_rounds = 10
depth = 3
task_type = "cpu"
"""
SNAPSHOT = {"video_id": "v0", "snapshot_time": "2018-03-01T14:00:00Z", "views": 10, "likes": 1, "comments": 0}


def _snapshots(path: Path) -> Path:
    rows = ["video_id,snapshot_time,views,likes,comments"]
    for i in range(3):  # two snapshots a week apart per video, all on the same days: no time split possible
        rows += [f"v{i},2018-03-01T14:00:00Z,{100 + i},10,1", f"v{i},2018-03-08T14:00:00Z,{200 + i},20,2"]
    path.write_text("\n".join(rows) + "\n")
    return path


def _pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    (tmp_path / "c.toml").write_text(CONFIG)
    capsys.readouterr()
    rc = main(["--workspace", str(tmp_path / "ws"), "--config", str(tmp_path / "c.toml"), "pipeline", "--no-ui",
               "--name", "t", *argv])
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


@pytest.mark.parametrize(("extra", "message"), [
    (["--format", "nope"], "unknown --format 'nope'"),
    (["--required-horizons", "-3"], "--required-horizons: days must be positive"),
    (["--required-horizons", "99"], "[99] not among [dataset] horizons_days"),
    (["--predict", "k", '{"views": "lots"}'], "--predict k"),
    (["--predict", "k", "[1]"], "expected a JSON object"),
])
def test_bad_arguments_are_refused_before_any_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    extra: list[str], message: str) -> None:
    rc, out, err = _pipeline(tmp_path, capsys, "--snapshots", str(_snapshots(tmp_path / "s.csv")), *extra)
    assert rc == 2 and message in err and "Traceback" not in err
    assert "== " not in out  # no stage started


def test_unreadable_snapshots_and_untrainable_data_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = gzip.compress(("video_id,snapshot_time,views,likes,comments\n" + "v,2018-03-01T14:00:00Z,1,1,1\n" * 5000)
                         .encode())
    (tmp_path / "cut.csv.gz").write_bytes(data[: len(data) // 2])
    rc, _, err = _pipeline(tmp_path, capsys, "--snapshots", str(tmp_path / "cut.csv.gz"), "--required-horizons", "none")
    assert rc == 2 and "truncated or damaged compressed file" in err and "Traceback" not in err
    snaps = _snapshots(tmp_path / "s.csv")
    rc, _, err = _pipeline(tmp_path, capsys, "--snapshots", str(snaps), "--required-horizons", "none",
                           "--predict", "k", json.dumps(SNAPSHOT))
    assert rc == 2 and "no target could be trained" in err and "Traceback" not in err


def test_without_videos_no_batch_path_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = ["video_id,snapshot_time,views,likes,comments"]
    t0 = datetime(2018, 3, 1, 14, tzinfo=UTC)
    for i in range(40):  # snapshot 1 spread over 40 days, +7 d each: train, validation and test rows
        t1, t2, growth = t0 + timedelta(days=i), t0 + timedelta(days=i + 7), 1000 * (i % 7 + 1)
        rows += [f"v{i:02d},{t1:%Y-%m-%dT%H:%M:%SZ},{100 + i},10,1",
                 f"v{i:02d},{t2:%Y-%m-%dT%H:%M:%SZ},{100 + i + growth},20,2"]
    (tmp_path / "s.csv").write_text("\n".join(rows) + "\n")
    rc, out, err = _pipeline(tmp_path, capsys, "--snapshots", str(tmp_path / "s.csv"), "--required-horizons", "none")
    assert rc == 0, err
    assert "batches/None" not in out and "batch       none (no --videos)" in out
