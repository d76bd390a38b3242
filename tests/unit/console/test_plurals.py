"""User-facing counts read "1 video", "2 videos" (they said "1 videos"), and listed paths take one form."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from engine.text import display_path, plural


def test_plural() -> None:
    assert [plural(n, "video") for n in (0, 1, 2)] == ["0 videos", "1 video", "2 videos"]
    assert plural(1, "entry", "entries") == "1 entry" and plural(3, "entry", "entries") == "3 entries"


def test_display_path_is_relative_under_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    assert display_path("ws/batches/b") == "ws/batches/b"
    assert display_path(tmp_path / "here" / "ws" / "result_store") == "ws/result_store"
    assert display_path("ws/../ws/x") == "ws/x"
    assert display_path(tmp_path / "elsewhere") == str(tmp_path / "elsewhere")
    assert display_path("../elsewhere") == str(tmp_path / "elsewhere")


def test_one_video_one_worker_read_in_the_singular() -> None:
    from console.commands.status_cmd import _next_step
    from console.headless import PlainRenderer
    from console.state import BatchSummary
    from console.widgets.batch_header import BatchHeader

    out = io.StringIO()
    PlainRenderer(out, every_s=1e9)({"type": "batch_started", "batch_id": "b", "total": 1, "workers": 1})
    assert out.getvalue().splitlines()[0] == "batch b: 1 video, 1 worker"
    doc = {"batch_id": "b", "state": "stopped", "failed": [], "counts": {"queued": 1, "failed": 0, "total": 1}}
    assert (_next_step(doc) or "").endswith("continues the 1 unfinished video")
    doc = {"batch_id": "b", "state": "finished", "failed": [{"transient": True}], "counts": {"queued": 0, "failed": 1, "total": 1}}
    assert (_next_step(doc) or "").endswith("re-queues the 1 retryable failure")
    header = BatchHeader()
    header.summary = BatchSummary("b", "finished", False, {"total": 1, "done": 1}, 0.0, None, None, None)
    assert "1 video " in str(header.render()) and "1 videos" not in str(header.render())


def test_dataset_and_alert_counts_in_the_singular(capsys: pytest.CaptureFixture[str]) -> None:
    from console.commands.dataset_cmd import _Progress
    from engine.alerts import AlertRules
    from engine.config import load_settings

    stream = io.StringIO()
    _Progress(stream)({"type": "dataset_finished", "rows": 1, "duration_s": 0.1, "out": "d"})
    assert stream.getvalue() == "dataset: 1 row in 0.1 s -> d\n"
    rules = AlertRules(load_settings(None).alerts)
    rules.cfg = dataclasses.replace(rules.cfg, crash_loop_count=1)
    (alert,) = rules.on_worker_lost(now=0.0)
    assert alert.message.startswith("worker crash loop: 1 worker lost within")
