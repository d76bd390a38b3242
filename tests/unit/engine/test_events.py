"""The event log: group-committed appends, incremental reads, torn lines skipped on replay."""

from __future__ import annotations

import json
from pathlib import Path

from engine.events import EventWriter, read_events
from engine.state import replay


def test_torn_last_line_is_skipped_and_sealed(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "state.jsonl"
    with EventWriter(log) as w:
        w.emit("batch_started", batch_id="b", total=2)
        w.emit("video_queued", key="k1")
        w.emit("video_succeeded", key="k1", wall_s=1.0)
    with log.open("ab") as fh:
        fh.write(b'{"v":1,"type":"video_started","key":"k2"')  # crash mid-line
    # A reader leaves an incomplete last line alone.
    res = read_events(log)
    assert [e["type"] for e in res.events] == ["batch_started", "video_queued", "video_succeeded"]
    # Reopening for append seals the torn line; replay then skips it with a warning.
    with EventWriter(log) as w:
        w.emit("video_queued", key="k2")
    state = replay(log)
    assert state.skipped_lines == 1
    assert state.videos["k1"].status == "done" and state.videos["k2"].status == "queued"
    assert "torn" in caplog.text


def test_incremental_offsets(tmp_path: Path) -> None:
    log = tmp_path / "e.jsonl"
    w = EventWriter(log)
    w.emit("a")
    first = read_events(log)
    w.emit("b")
    w.emit("c")
    second = read_events(log, first.offset)
    assert [e["type"] for e in second.events] == ["b", "c"]
    assert read_events(log, second.offset).events == []
    w.close()
    for line in log.read_text().splitlines():
        ev = json.loads(line)
        assert ev["v"] == 1 and "ts" in ev


def test_replay_folds_retries_and_final_failures(tmp_path: Path) -> None:
    log = tmp_path / "s.jsonl"
    with EventWriter(log) as w:
        w.emit("batch_started", batch_id="b", total=1)
        w.emit("video_queued", key="k")
        w.emit("video_started", key="k", attempt=1)
        w.emit("video_failed", key="k", error_class="worker_lost", transient=True, final=False)
        w.emit("video_retry_scheduled", key="k", attempt=2, batch_size_scale=0.5)
        w.emit("video_queued", key="k")
        w.emit("video_started", key="k", attempt=2)
    s = replay(log)
    v = s.videos["k"]
    assert v.status == "running" and v.attempts == 2 and v.counted_failures == 1 and v.batch_size_scale == 0.5
    assert s.counts()["running"] == 1
    with EventWriter(log) as w:
        w.emit("batch_stopped", state="stopped")
    s = replay(log)
    assert s.videos["k"].status == "queued"  # in flight when the batch stopped: resume re-queues it


def test_workers_are_not_alive_once_the_batch_has_ended(tmp_path: Path) -> None:
    # The supervisor shuts its workers down after batch_finished/batch_stopped without a
    # worker_exited per worker; the derived state must not show them alive.
    log = tmp_path / "s.jsonl"
    with EventWriter(log) as w:
        w.emit("batch_started", batch_id="b", total=1)
        w.emit("worker_started", worker=0, pid=11)
        w.emit("worker_started", worker=1, pid=12)
        w.emit("video_started", key="k", attempt=1, worker=1)
    assert all(x["alive"] for x in replay(log).workers.values())
    with EventWriter(log) as w:
        w.emit("batch_finished", state="finished")
    workers = replay(log).workers
    assert set(workers) == {0, 1} and not any(x["alive"] for x in workers.values())
    assert all(x["video"] is None for x in workers.values())


def _count_fsyncs(monkeypatch, log: Path) -> list[int]:  # type: ignore[no-untyped-def]
    """Record the fsyncs of ``log`` (the real fsync still runs); one entry per call."""
    import os

    real, calls = os.fsync, []

    def spy(fd: int) -> None:
        if os.path.realpath(f"/proc/self/fd/{fd}") == str(log.resolve()):
            calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return calls


def test_default_writer_fsyncs_each_final_outcome(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "state.jsonl"
    with EventWriter(log, fsync_interval_s=3600) as w:
        calls = _count_fsyncs(monkeypatch, log)
        for i in range(5):
            w.emit("video_succeeded", key=f"k{i}", wall_s=1.0)
        assert len(calls) == 5


def test_deferred_outcomes_are_readable_at_once_and_fsynced_together_on_commit(
        tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "state.jsonl"
    w = EventWriter(log, fsync_interval_s=3600, defer_durable=True)
    calls = _count_fsyncs(monkeypatch, log)
    w.emit("video_skipped", key="k0", reason="already_done")
    w.emit("video_succeeded", key="k1", wall_s=1.0)
    w.emit("video_failed", key="k2", error_class="not_video", final=True)
    assert calls == [] and w.durable_pending
    # Flushed line by line all the same: followers (status, attach) see them before the fsync.
    assert [e["key"] for e in read_events(log).events] == ["k0", "k1", "k2"]
    w.commit()
    assert len(calls) == 1 and not w.durable_pending
    w.commit()  # nothing waiting: no fsync
    assert len(calls) == 1
    w.emit("batch_finished", state="finished")  # a batch's end is still fsynced at once
    assert len(calls) == 2
    w.emit("video_succeeded", key="k3", wall_s=1.0)
    w.close()  # closing fsyncs what a commit has not
    assert len(calls) == 3
    assert replay(log).videos["k3"].status == "done"
