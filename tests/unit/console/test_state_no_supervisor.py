"""A batch without a live supervisor reads as `vidops status` shows it, not as if it still ran.

In-flight videos of an interrupted batch are queued (resume re-queues them), its workers are
gone, its elapsed time stops at its last event; a never-started batch counts its list's videos.
"""

from __future__ import annotations

from pathlib import Path

from console.state import BatchFollower
from console.synthetic import T0, write_finished_batch

BATCH = "20260921-120000-abc123"


def test_interrupted_batch_in_flight_videos_read_as_queued_and_workers_as_exited(tmp_path: Path) -> None:
    write_finished_batch(tmp_path, n=20, running=2)
    alive = [False]
    f = BatchFollower(tmp_path, BATCH, alive=lambda *_: alive[0], clock=lambda: T0 + 10_000)
    d = f.poll()
    assert d.summary.state == "interrupted"
    assert d.summary.counts["running"] == 0 and d.summary.counts["queued"] == 2
    in_flight = ["local__v000018", "local__v000019"]
    assert [d.rows[k].status for k in in_flight] == ["queued", "queued"]
    assert d.workers and not any(w.alive for w in d.workers) and not any(w.video for w in d.workers)
    # Elapsed stops at the batch's last event, not at the clock.
    elapsed = d.summary.elapsed(T0 + 10_000)
    assert elapsed is not None and elapsed < 100
    # A resumed supervisor takes the batch: the same rows read as running again without new events.
    alive[0] = True
    d2 = f.poll()
    assert d2.summary.counts["running"] == 2 and d2.summary.counts["queued"] == 0
    assert sorted(k for k, r in d2.rows.items() if r.status == "running") == in_flight


def test_vidops_status_of_an_interrupted_batch_stops_its_clock_at_its_last_event(tmp_path: Path) -> None:
    # as the console does: status counted the elapsed time to now and let the rate decay to 0
    from engine import api

    write_finished_batch(tmp_path, n=20, running=2)
    doc = api.batch_status(tmp_path, BATCH)
    console = BatchFollower(tmp_path, BATCH, alive=lambda *_: False, clock=lambda: T0 + 10_000).poll().summary
    assert doc["state"] == "interrupted" and doc["eta_s"] is None
    assert doc["elapsed_s"] == round(console.elapsed(T0 + 10_000) or 0.0, 1) and doc["elapsed_s"] < 100
    assert doc["throughput_per_min"] > 0
    assert console.per_min > 0  # its rate at its last event (read 0.0/min)


def test_batch_list_of_an_interrupted_batch_counts_its_in_flight_videos_as_queued(tmp_path: Path) -> None:
    # the Batches screen (b) read 'queued 0' from the dead supervisor's last progress.json
    import json

    from engine import api

    root = write_finished_batch(tmp_path, n=20, running=2)
    counts = {"total": 20, "queued": 0, "running": 2, "done": 15, "skipped": 1, "failed": 2}
    (root / "progress.json").write_text(json.dumps({"state": "running", "counts": counts, "updated_at": T0 + 31}))
    (row,) = api.list_batch_summaries(tmp_path)
    assert row["state"] == "interrupted" and row["counts"]["running"] == 0 and row["counts"]["queued"] == 2
    assert row["counts"] == api.batch_status(tmp_path, BATCH)["counts"]  # as 'vidops status' counts it


def test_finished_batch_workers_read_as_exited(tmp_path: Path) -> None:
    from engine.events import EventWriter

    root = write_finished_batch(tmp_path, n=5)
    # A real supervisor ends a batch without worker_exited events: its workers are gone with it.
    lines = [x for x in (root / "state.jsonl").read_text().splitlines() if '"worker_exited"' not in x]
    (root / "state.jsonl").write_text("\n".join(lines) + "\n")
    with EventWriter(root / "state.jsonl"):
        pass
    d = BatchFollower(tmp_path, BATCH, alive=lambda *_: False).poll()
    assert d.summary.state == "finished"
    assert [w.alive for w in d.workers] == [False, False]


def test_never_started_batch_counts_its_list_as_queued(tmp_path: Path) -> None:
    from console.synthetic import make_batch_dir

    make_batch_dir(tmp_path, "b-created", 7)
    d = BatchFollower(tmp_path, "b-created", alive=lambda *_: False).poll()
    assert d.summary.state == "created"
    assert d.summary.counts["total"] == 7 and d.summary.counts["queued"] == 7


def test_rate_of_a_batch_without_supervisor_is_the_one_vidops_status_shows(tmp_path: Path) -> None:
    # the header read its average rate since the start (9.9/min) where `vidops status` said 10.63/min
    from engine import api

    for running in (0, 2):  # finished, then interrupted (measured at its last event)
        ws = tmp_path / f"r{running}"
        write_finished_batch(ws, n=20, running=running)
        doc = api.batch_status(ws, BATCH)
        follower = BatchFollower(ws, BATCH, alive=lambda *_: False, clock=lambda: T0 + 10_000)
        summary = follower.poll().summary
        assert doc["throughput_per_min"] > 0
        assert summary.per_min == doc["throughput_per_min"], doc["state"]
        assert follower.poll().summary.per_min == doc["throughput_per_min"]  # an idle poll keeps it
