"""What a SIGKILL at an unlucky moment leaves behind, and how readers and the next writer cope."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine import api
from engine.backends.local import LocalBackend
from engine.batch import BatchPaths
from engine.config import load_settings
from engine.supervisor import Supervisor


@pytest.fixture
def finished_batch(tmp_path: Path) -> BatchPaths:
    """A finished batch whose only video failed at validation (missing file): no worker starts."""
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nmissing.mp4\n")
    paths = api.prepare_batch(tmp_path / "ws", load_settings(None), str(lst), "b1")
    assert Supervisor(paths, install_signals=False).run() == 1
    return paths


def test_progress_is_written_right_after_the_final_event(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Shutting the workers down takes up to seconds; a supervisor killed then must not leave a
    # progress.json that says "running" behind a log that says "finished".
    seen: list[str] = []

    def shutdown(self: LocalBackend) -> None:
        seen.append(json.loads(self.sup.paths.progress.read_text())["state"])

    monkeypatch.setattr(LocalBackend, "shutdown", shutdown)
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nmissing.mp4\n")
    paths = api.prepare_batch(tmp_path / "ws", load_settings(None), str(lst), "b1")
    assert Supervisor(paths, install_signals=False).run() == 1
    assert seen == ["finished"]
    assert json.loads(paths.progress.read_text())["log_bytes"] == paths.state.stat().st_size


def test_list_reads_the_log_when_a_killed_supervisor_left_progress_behind(finished_batch: BatchPaths) -> None:
    # The progress.json a supervisor leaves when it is killed after its last events (here: the
    # video's failure and batch_finished) but before rewriting progress.json.
    ws = finished_batch.root.parent.parent
    doc = json.loads(finished_batch.progress.read_text())
    last_line = finished_batch.state.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[1]
    doc.update(state="running", counts={**doc["counts"], "queued": 0, "running": 1, "failed": 0},
               log_bytes=finished_batch.state.stat().st_size - len(last_line) - 1)
    finished_batch.progress.write_text(json.dumps(doc))
    (row,) = api.list_batch_summaries(ws)
    assert row["state"] == "finished" == api.batch_status(ws, "b1")["state"]  # was "interrupted"
    assert row["counts"] == api.batch_status(ws, "b1")["counts"]  # was failed 0, running 1
    assert row["counts"]["failed"] == 1


def test_list_trusts_a_current_progress_file(finished_batch: BatchPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_replay(*_: object) -> None:
        raise AssertionError("the log was read although progress.json is current")

    monkeypatch.setattr(api, "batch_status", no_replay)
    (row,) = api.list_batch_summaries(finished_batch.root.parent.parent)
    assert row["state"] == "finished" and row["counts"]["failed"] == 1


def test_list_of_a_batch_killed_before_its_first_progress_file(finished_batch: BatchPaths) -> None:
    finished_batch.progress.unlink()  # killed within its first loop pass; the log has events
    (row,) = api.list_batch_summaries(finished_batch.root.parent.parent)
    assert row["state"] == "finished" and row["counts"]["failed"] == 1  # was "created", all queued
