"""What a SIGKILL at an unlucky moment leaves behind, and how readers and the next writer cope."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import api
from engine.backends.local import LocalBackend
from engine.batch import BatchPaths
from engine.config import load_settings
from engine.supervisor import Supervisor


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


_KILLED_MID_WRITE = """
import os, signal, sys
import numpy as np
import engine.atomic
from engine.store import RunDir

run = RunDir(__import__("pathlib").Path(sys.argv[1]))
with run.locked(5.0):
    run.start({"platform_id": "local", "video_id": "v", "video_path": "v.avi"}, "r1", "h")
    run.write_component("probe", version="1", arrays={"a": np.arange(3)}, summary={})
    engine.atomic.os.replace = lambda *_: os.kill(os.getpid(), signal.SIGKILL)  # killed before the rename
    run.write_component("cut_detection", version="1", arrays={"b": np.arange(4)}, summary={})
"""


def test_a_worker_killed_mid_write_leaves_no_temp_file_once_the_run_is_retried(tmp_path: Path) -> None:
    import subprocess
    import sys

    import numpy as np

    from engine.store import RunDir

    path = tmp_path / "local" / "v" / "r1"
    proc = subprocess.run([sys.executable, "-c", _KILLED_MID_WRITE, str(path)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == -9, proc.stderr
    assert [p.name for p in path.glob(".cut_detection.npz.*.tmp")]  # what the kill left
    run = RunDir(path)  # the retry, in the next worker
    with run.locked(5.0):
        manifest = run.start({"platform_id": "local", "video_id": "v", "video_path": "v.avi"}, "r1", "h")
        assert list(manifest["components"]) == ["probe"]  # resumes after the component that landed
        run.write_component("cut_detection", version="1", arrays={"b": np.arange(4)}, summary={})
        run.complete()
    assert sorted(p.name for p in path.iterdir()) == [".lock", "cut_detection.npz", "manifest.json", "probe.npz"]


def test_a_supervisor_removes_the_temp_files_a_killed_one_left(finished_batch: BatchPaths) -> None:
    stale = [finished_batch.root / ".progress.json.k1ll3d.tmp", finished_batch.root / ".control.addr.k1ll3d.tmp"]
    for p in stale:
        p.write_text("{")
    assert Supervisor(finished_batch, install_signals=False).run() == 1  # resumed: nothing to do
    assert not [p for p in stale if p.exists()]
    assert not list(finished_batch.root.glob("*.tmp"))


def test_the_uniqueness_index_drops_the_temp_file_of_a_worker_killed_mid_rewrite(
        tmp_path: Path, make_video: Callable[..., Path]) -> None:
    from tests.extractors_support.run import extract

    index = tmp_path / "store" / "p" / ".index"
    index.mkdir(parents=True)
    (index / ".uniqueness.npz.k1ll3d.tmp").write_bytes(b"PK")  # SIGKILL between write and rename
    extract(make_video("a.avi", frames=12), tmp_path / "store",
            {"extract.modules": ["cut_detection", "similarity_metrics", "uniqueness"]})
    assert sorted(p.name for p in index.iterdir()) == ["uniqueness.lock", "uniqueness.npz"]
