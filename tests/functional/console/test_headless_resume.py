"""``--no-ui`` resume and retry: the headless summary covers the whole batch, not just this run."""

from __future__ import annotations

import re
from pathlib import Path

from support.batches import FAST, vidops

from console.synthetic import write_finished_batch


def _summaries(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"\[k1\] \d+/\d+ finished", line)]


def test_resume_and_retry_no_ui_count_the_videos_finished_before(tmp_path: Path) -> None:
    # 11 videos done, the 12th in flight when its supervisor died; its file does not exist, so
    # this run fails it at once (no media or models needed).
    ws, cfg = tmp_path / "ws", tmp_path / "fast.toml"
    cfg.write_text(FAST)
    write_finished_batch(ws, batch_id="k1", n=12, fail_every=0, skip_every=0, running=1)
    out = vidops(ws, cfg, "resume", "k1", "--no-ui", check=1)
    lines = _summaries(out.stdout)
    assert lines[-1] == "[k1] 12/12 finished: 11 done, 0 skipped, 1 failed; 0 running, 0 queued", out.stdout
    # The first summary (after batch_started) already counts the earlier run; the video that
    # was in flight is queued again, not running.
    assert lines[0].startswith("[k1] 11/12 finished: 11 done, 0 skipped, 0 failed; 0 running, 1 queued"), out.stdout
    out = vidops(ws, cfg, "retry", "k1", "--video", "local__v000011", "--no-ui", check=1)
    assert _summaries(out.stdout)[-1] == "[k1] 12/12 finished: 11 done, 0 skipped, 1 failed; 0 running, 0 queued", \
        out.stdout
