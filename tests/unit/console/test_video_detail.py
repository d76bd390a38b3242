"""engine.api.video_detail: manifest components, log tail and the last traceback."""

from __future__ import annotations

from pathlib import Path

from console.synthetic import write_finished_batch
from engine import api


def test_video_detail_reads_log_tail_and_traceback(tmp_path: Path) -> None:
    root = write_finished_batch(tmp_path, n=3)
    log = root / "logs" / "local__v000001.log"
    log.write_text("INFO attempt 1\nERROR failed (not_video, permanent): boom\nTraceback (most recent call last):\n"
                   '  File "x.py", line 1, in <module>\nValueError: boom\nINFO after\n')
    d = api.video_detail(tmp_path, root.name, "local__v000001")
    assert d["traceback"].splitlines()[-1] == "ValueError: boom"
    assert d["log_tail"][-1] == "INFO after" and d["components"] == {}
    assert api.video_detail(tmp_path, root.name, "local__v000002")["log_tail"] == []
