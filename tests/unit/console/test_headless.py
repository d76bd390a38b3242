"""Headless renderers (``--no-ui``): what they print for the events a supervisor emits."""

from __future__ import annotations

import io
from pathlib import Path

from console.headless import JsonRenderer, PlainRenderer, RichRenderer, seed_from_log, summary_line
from console.synthetic import write_finished_batch


def test_seed_from_log_counts_the_earlier_runs(tmp_path: Path) -> None:
    root = write_finished_batch(tmp_path, batch_id="k1", n=12, fail_every=0, skip_every=0, running=1)
    for renderer in (PlainRenderer(io.StringIO()), RichRenderer()):
        seed_from_log(renderer, root / "state.jsonl")
        # The video in flight when the supervisor died counts as queued: this run re-queues it.
        assert summary_line(renderer.state) == "[k1] 11/12 finished: 11 done, 0 skipped, 0 failed; 0 running, 1 queued"
        renderer.close()
    seed_from_log(JsonRenderer(io.StringIO()), root / "state.jsonl")  # keeps no state: nothing to seed
    seed_from_log(PlainRenderer(io.StringIO()), tmp_path / "missing.jsonl")  # a new batch has no log yet


def test_interrupted_video_is_not_announced_as_retried() -> None:
    out = io.StringIO()
    r = PlainRenderer(out, every_s=1e9)
    r({"type": "batch_started", "batch_id": "k1", "total": 2, "workers": 1})
    # What the supervisor emits for a video killed by a stop (engine.retry: not counted, not retried).
    r({"type": "video_failed", "key": "local__v0", "error_class": "interrupted", "transient": True,
       "message": "batch stopped while the video was running (worker 0, pid 42)", "attempt": 1, "final": False,
       "counted": False})
    # A counted, non-final failure is retried in this run.
    r({"type": "video_failed", "key": "local__v1", "error_class": "timeout", "transient": True,
       "message": "timed out after 5 s", "attempt": 1, "final": False, "counted": True})
    lines = out.getvalue().splitlines()
    assert "local__v0 interrupted; 'vidops resume k1' continues it" in lines
    assert not any(line.startswith("retrying local__v0") for line in lines)
    assert "retrying local__v1 after timeout: timed out after 5 s" in lines
