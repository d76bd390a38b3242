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
    assert "local__v0 interrupted; 'vidops resume k1' continues it" in lines  # ./workspace: no --workspace
    assert not any(line.startswith("retrying local__v0") for line in lines)
    assert "retrying local__v1 after timeout: timed out after 5 s" in lines


def test_rich_renderer_prints_keys_and_messages_literally(capsys) -> None:  # type: ignore[no-untyped-def]
    # Ids and error messages are data: Rich markup in them must neither vanish nor raise MarkupError.
    r = RichRenderer()
    key = "local__clip[/x]"
    r({"type": "batch_started", "batch_id": "k1", "total": 1, "workers": 1})
    r({"type": "video_started", "key": key, "attempt": 1})
    r({"type": "video_progress", "key": key, "stage": "decode [bold]", "fraction": 0.5})
    r({"type": "alert", "severity": "warning", "kind": "disk", "message": "low on [link] space [/]"})
    r({"type": "video_failed", "key": key, "error_class": "undecodable", "transient": False,
       "message": "cannot decode [red]frame[/red] 3 [/x]", "attempt": 1, "final": True})
    r.close()
    out = capsys.readouterr().out
    assert "ALERT disk: low on [link] space [/]" in out
    assert "FAILED local__clip[/x]: undecodable: cannot decode [red]frame[/red] 3 [/x]" in out
    assert "[k1] 1/1 finished: 0 done, 0 skipped, 1 failed" in out  # the batch id is no markup tag either
