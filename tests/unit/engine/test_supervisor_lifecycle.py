"""Supervisor and batch lifecycle edges, tested without starting a worker process."""

from __future__ import annotations

import errno
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from engine import api
from engine.backends import BackendUnavailable
from engine.backends.local import MAX_START_FAILURES, LocalBackend
from engine.batch import BatchAborted, BatchPaths, supervisor_alive
from engine.config import load_settings
from engine.events import EventWriter
from engine.pool import WorkerHandle
from engine.state import replay
from engine.supervisor import Supervisor


def test_retry_of_unknown_key_writes_nothing(finished_batch: BatchPaths) -> None:
    before = finished_batch.state.read_bytes()
    with pytest.raises(KeyError, match="local__nope"):
        Supervisor(finished_batch, retry_keys=["local__nope"], install_signals=False).run()
    assert finished_batch.state.read_bytes() == before  # still "finished", not "interrupted"
    assert api.batch_status(finished_batch.root.parent.parent, "b1")["state"] == "finished"


def test_workspace_that_cannot_be_written_is_a_workspace_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nmissing.mp4\n")
    with pytest.raises(api.WorkspaceError, match="afile"):
        api.prepare_batch(tmp_path / "afile" / "ws", load_settings(None), str(lst))


def test_batch_that_cannot_be_locked_is_a_workspace_error(finished_batch: BatchPaths) -> None:
    finished_batch.lock.unlink()
    finished_batch.lock.mkdir()  # open() fails as on a read-only mount, without needing one
    with pytest.raises(api.WorkspaceError, match="supervisor.lock"):
        Supervisor(finished_batch, install_signals=False).run()


def test_detached_start_failure_is_reported_despite_a_stale_control_addr(finished_batch: BatchPaths) -> None:
    finished_batch.control_addr.write_text("/nonexistent/control.sock\n")  # left by a kill -9'd supervisor
    finished_batch.config.write_text("not = [valid toml\n")
    with pytest.raises(api.SupervisorFailed, match="exited with code"):
        api.start_detached(finished_batch, wait_s=30)


def test_status_of_a_dead_supervisors_batch_shows_nothing_running(finished_batch: BatchPaths) -> None:
    w = EventWriter(finished_batch.state)  # a resumed run, killed with a video in flight
    w.emit("batch_started", batch_id="b1", total=1, resumed=True)
    w.emit("video_queued", key="local__missing")
    w.emit("video_started", key="local__missing", worker=1, pid=1, attempt=1)
    w.emit("video_succeeded", key="other", wall_s=1.0)  # a recent finish, so a rate exists
    w.close()
    doc = api.batch_status(finished_batch.root.parent.parent, "b1")
    assert doc["state"] == "interrupted"
    assert doc["counts"]["running"] == 0 and doc["counts"]["queued"] == 1
    assert doc["eta_s"] is None


def test_progress_is_current_when_a_command_is_answered(tmp_path: Path) -> None:
    (tmp_path / "a.avi").write_bytes(b"x")  # queued only: the loop (and so a worker) never runs
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\na.avi\n")
    paths = api.prepare_batch(tmp_path / "ws", load_settings(None), str(lst), "b2")
    sup = Supervisor(paths, install_signals=False)
    sup._prepare()
    try:
        assert sup.handle_command({"command": "pause"})["ok"]
        assert json.loads(paths.progress.read_text())["paused"] is True
        assert sup.handle_command({"command": "resume"})["ok"]
        assert json.loads(paths.progress.read_text())["paused"] is False
    finally:
        assert sup.writer is not None
        sup.writer.close()


def test_retry_with_nothing_to_retry_starts_nothing_and_says_why(finished_batch: BatchPaths) -> None:
    ws, before = finished_batch.root.parent.parent, finished_batch.state.read_bytes()
    reply = api.retry_videos(ws, "b1", [], all_failed=True)  # the only failure is permanent
    assert reply["resumed"] is False and reply["requeued"] == []
    assert "1 of 1 failure is permanent" in reply["message"] and "--include-permanent" in reply["message"]
    assert finished_batch.state.read_bytes() == before  # no supervisor was started
    reply = api.retry_videos(ws, "b1", [], all_failed=True, include_permanent=True, detach=False)
    assert reply["requeued"] == ["local__missing"] and reply["exit_code"] == 1  # the file is still missing


def test_status_of_a_batch_that_never_started(tmp_path: Path) -> None:
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\na.avi\nb.avi\n")
    api.prepare_batch(tmp_path / "ws", load_settings(None), str(lst), "never")  # no supervisor ever ran
    doc = api.batch_status(tmp_path / "ws", "never")
    assert doc["batch_id"] == "never" and doc["state"] == "created"
    assert doc["counts"]["total"] == 2 and doc["counts"]["queued"] == 2
    assert "never started" in api.retry_videos(tmp_path / "ws", "never", [], all_failed=True)["message"]
    (listed,) = api.list_batch_summaries(tmp_path / "ws")
    assert listed["state"] == "created" and listed["counts"]["total"] == 2 and listed["counts"]["queued"] == 2


def test_workers_that_hang_before_ready_end_the_batch_as_fatal(tmp_path: Path) -> None:
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nmissing.mp4\n")
    paths = api.prepare_batch(tmp_path / "ws", load_settings(None), str(lst), "hang")
    sup = Supervisor(paths, install_signals=False)
    sup._prepare()
    backend = sup.backend
    assert isinstance(backend, LocalBackend) and sup.writer is not None
    try:
        for wid in range(1, MAX_START_FAILURES + 1):  # stand-ins for workers stuck in warm-up
            r, w = os.pipe()
            os.close(w)
            proc = subprocess.Popen(["sleep", "30"], stdin=subprocess.PIPE)
            backend.workers[wid] = WorkerHandle(wid, proc, r, spawned_at=time.monotonic() - 1e4)
        backend.check(time.monotonic())  # all past start_timeout_s: killed
        for h in list(backend.workers.values()):
            h.proc.wait(timeout=10)
        backend.check(time.monotonic())  # reaped
        assert sup.fatal and "before becoming ready" in sup.fatal
    finally:
        backend.shutdown()
        sup.writer.close()


def test_a_pool_of_no_workers_is_refused_before_anything_is_written(finished_batch: BatchPaths) -> None:
    before = finished_batch.state.read_bytes()
    with pytest.raises(ValueError, match="at least 1"):
        Supervisor(finished_batch, workers=-1, install_signals=False).run()
    assert finished_batch.state.read_bytes() == before


def test_a_full_disk_stops_the_batch_with_a_message(finished_batch: BatchPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.supervisor as supervisor_mod

    def no_space(*_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    class FullDisk(EventWriter):
        def write(self, event: dict[str, object]) -> None:
            no_space()

    monkeypatch.setattr(supervisor_mod, "EventWriter", FullDisk)
    monkeypatch.setattr(supervisor_mod, "atomic_write_json", no_space)  # progress.json fails too
    # the hint names the batch's workspace (not ./workspace): 'vidops resume b1' would look there
    ws = re.escape(str(finished_batch.workspace))
    with pytest.raises(BatchAborted, match=f"No space left on device.*'vidops --workspace {ws} resume b1'"):
        Supervisor(finished_batch, install_signals=False).run()
    assert not supervisor_alive(finished_batch)  # the lock is released: resume can take over


def test_an_unavailable_backend_ends_the_batch_as_error(finished_batch: BatchPaths,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.supervisor as supervisor_mod

    def unreachable(*_a: object) -> None:
        raise BackendUnavailable("cannot connect to Ray at ray://nowhere:10001")

    monkeypatch.setattr(supervisor_mod, "make_backend", unreachable)
    with pytest.raises(BackendUnavailable):
        Supervisor(finished_batch, install_signals=False).run()
    doc = api.batch_status(finished_batch.root.parent.parent, "b1")
    assert doc["state"] == "error"  # not "interrupted", as after a crash
    assert any(a["kind"] == "fatal" and "ray://nowhere" in a["message"] for a in doc["alerts"])


def test_a_second_graceful_stop_keeps_the_first_deadline(finished_batch: BatchPaths) -> None:
    sup = Supervisor(finished_batch, install_signals=False)
    sup.request_stop("graceful")
    first = sup.stop_deadline
    time.sleep(0.01)
    sup.request_stop("graceful")
    assert sup.stop_deadline == first
    sup.request_stop("now")
    assert sup.stopping == "now" and sup.stop_deadline < first


def test_rate_of_a_finished_batch_does_not_decay_when_read_later() -> None:
    from engine.progress import build_progress
    from engine.state import BatchState

    state = BatchState()
    state.apply({"type": "batch_started", "ts": 1000.0, "batch_id": "b", "total": 10})
    for i in range(10):
        state.apply({"type": "video_succeeded", "ts": 1006.0 + 6 * i, "key": f"k{i}", "wall_s": 6.0})
    state.apply({"type": "batch_finished", "ts": 1060.0, "state": "finished"})
    doc = build_progress(state)  # read "now", long after the batch ended
    assert 9.0 < doc["throughput_per_min"] < 12.0 and doc["elapsed_s"] == 60.0  # ~10 videos in a minute


def test_a_closed_display_pipe_is_one_line_not_a_traceback(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    def closed_pipe(_ev: dict[str, object]) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nmissing.mp4\n")
    paths = api.prepare_batch(tmp_path / "ws", load_settings(None), str(lst), "b")
    assert Supervisor(paths, listeners=[closed_pipe], install_signals=False).run() == 1  # the batch still ends
    (record,) = [r for r in caplog.records if "display output closed" in r.getMessage()]
    assert record.exc_info is None


def test_a_paused_batch_has_no_eta(finished_batch: BatchPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    w = EventWriter(finished_batch.state)  # resumed with a queued video and a recent finish: a rate exists
    w.emit("batch_started", batch_id="b1", total=2, resumed=True)
    w.emit("video_queued", key="other")
    w.emit("video_succeeded", key="done1", wall_s=1.0)
    w.close()
    monkeypatch.setattr(api, "supervisor_alive", lambda _p: True)  # a live supervisor that is paused
    monkeypatch.setattr(api, "read_progress", lambda _w, _b: {"paused": True, "workers": []})
    doc = api.batch_status(finished_batch.root.parent.parent, "b1")
    assert doc["state"] == "paused" and doc["throughput_per_min"] > 0 and doc["eta_s"] is None


def test_outcomes_are_fsynced_once_per_loop_pass_and_before_progress(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Many outcomes in one pass (here 40 invalid rows; a re-run's skips alike) share one fsync of
    the event log instead of one each, and progress.json never runs ahead of the durable log."""
    lst = tmp_path / "list.csv"
    lst.write_text("video_path,video_id\n" + "".join(f"missing{i}.mp4,m{i}\n" for i in range(40)))
    paths = api.prepare_batch(tmp_path / "ws", load_settings(None), str(lst), "b1")
    real_fsync, log_fsyncs = os.fsync, []

    def spy(fd: int) -> None:
        if os.path.realpath(f"/proc/self/fd/{fd}") == str(paths.state.resolve()):
            log_fsyncs.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", spy)
    pending_at_progress: list[bool] = []
    real_progress = Supervisor.write_progress

    def progress(self: Supervisor) -> None:
        if self.writer is not None:
            pending_at_progress.append(self.writer.durable_pending)
        real_progress(self)

    monkeypatch.setattr(Supervisor, "write_progress", progress)
    assert Supervisor(paths, install_signals=False).run() == 1
    state = replay(paths.state)
    assert state.counts()["failed"] == 40 and state.state == "finished"
    assert len(log_fsyncs) < 10  # was 41: one per video_failed, one for batch_finished
    assert pending_at_progress and not any(pending_at_progress)
