"""Two batches over the same list and result store never extract the same video twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from support.batches import FAST, events, vidops, wait_for


def _sleeping(ws: Path, batch: str, key: str) -> bool:
    """The batch's worker is inside the injected sleep of ``key`` (after taking the run's lock)."""
    try:
        evs = events(ws, batch)
    except FileNotFoundError:
        return False
    return any(e["type"] == "video_progress" and e["key"] == key and e.get("stage") == "fault_sleep" for e in evs)


def test_a_second_batch_waits_for_the_first_and_reuses_its_result(
        tmp_path: Path, make_video: Callable[..., Path]) -> None:
    for i in range(3):
        make_video(f"v{i}.avi", frames=20 + i)
    ws, cfg, lst = tmp_path / "ws", tmp_path / "fast.toml", tmp_path / "list.csv"
    cfg.write_text(FAST)
    lst.write_text("video_path\nv0.avi\nv1.avi\nv2.avi\n")
    slow = {"local__v0": {"sleep_s": 4}}  # batch A holds v0's run directory for a while
    first = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "--workspace", str(ws), "--config", str(cfg), "run", str(lst),
         "--no-ui", "--batch-id", "A"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "VIDOPS_FAULTS": json.dumps(slow)})
    try:
        wait_for(lambda: _sleeping(ws, "A", "local__v0") or first.poll() is not None, timeout=60,
                 what="batch A working on v0")
        assert first.poll() is None, first.communicate()[0]
        vidops(ws, cfg, "run", str(lst), "--no-ui", "--batch-id", "B", check=0)
        assert first.wait(60) == 0, first.communicate()[0]
    finally:
        first.kill()
        first.wait()
    written = Counter((e["key"], e["component"]) for name in ("A", "B") for e in events(ws, name)
                      if e["type"] == "video_component_done")
    assert written and max(written.values()) == 1, written  # each component extracted once
    a, b = events(ws, "A"), events(ws, "B")
    # B must not extract v0 while A works on it (it did: the QA pass saw 17 of 40 videos twice)
    assert not [e for e in b if e["type"] == "video_component_done" and e["key"] == "local__v0"]
    assert [e["key"] for e in a if e["type"] == "video_component_done"].count("local__v0") >= 1
    assert "local__v0" in {e["key"] for e in b if e["type"] == "video_succeeded"}  # waited, then reused
    log = (ws / "batches" / "B" / "logs" / "local__v0.log").read_text()
    assert "reused, nothing recomputed" in log
    manifest = next((ws / "result_store" / "local" / "v0").glob("*/manifest.json"))
    assert json.loads(manifest.read_text())["status"] == "complete"
