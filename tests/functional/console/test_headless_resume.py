"""``--no-ui`` resume and retry: the headless summary covers the whole batch, not just this run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.batches import FAST, events, vidops, wait_for

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


@pytest.mark.slow
def test_ctrl_c_no_ui_says_interrupted_videos_wait_for_a_resume(tmp_path: Path, make_video: Callable[..., Path]) -> None:
    ws, cfg = tmp_path / "ws", tmp_path / "fast.toml"
    cfg.write_text(FAST + "[pool]\ngrace_s = 0.3\n")
    make_video("v0.avi", frames=12)
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nv0.avi\n")
    cmd = [sys.executable, "-m", "console.cli", "--workspace", str(ws), "--config", str(cfg), "run", str(lst),
           "--no-ui", "--workers", "1", "--batch-id", "k1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "VIDOPS_FAULTS": json.dumps({"local__v0": {"sleep_s": 30}})})
    wait_for(lambda: (ws / "batches" / "k1" / "state.jsonl").exists()
             and any(e["type"] == "video_started" for e in events(ws, "k1")), what="the video to start")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    assert f"local__v0 interrupted; 'vidops --workspace {ws} resume k1' continues it" in out.splitlines(), out
    assert "retrying" not in out
