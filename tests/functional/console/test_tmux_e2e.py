"""Terminal end-to-end: the real ``vidops`` CLI in a tmux pane (skipped when tmux is absent).

Start ``vidops run`` (console attached), read the screen, retry a failed video with ``r`` on the
Failed screen, detach with ``q``, check the batch still finishes, re-attach with ``vidops attach``.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")]
REPO = Path(__file__).resolve().parents[3]


class Tmux:
    def __init__(self) -> None:
        self.sock = f"vidops-test-{uuid.uuid4().hex[:8]}"

    def __call__(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-L", self.sock, *args], capture_output=True, text=True, timeout=10)
        return out.stdout

    def screen(self, target: str) -> str:
        return self("capture-pane", "-p", "-t", target)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True, timeout=10)


def test_run_retry_detach_and_reattach_in_tmux(live: Any) -> None:
    tmux = Tmux()
    base = (f"cd {shlex.quote(str(REPO))} && TERM=xterm-256color {shlex.quote(sys.executable)} -m console.cli "
            f"--workspace {shlex.quote(str(live.ws))} --config {shlex.quote(str(live.cfg))}")
    faults = shlex.quote('{"local__v0": {"sleep_s": 6}}')
    run = f"export VIDOPS_FAULTS={faults}; {base} run {shlex.quote(str(live.list))} --batch-id e2e --workers 2"
    batch = "e2e"
    live.started.append(batch)
    try:
        tmux("new-session", "-d", "-s", "t", "-x", "100", "-y", "30",
             f"{run}; echo EXITED=$?; sleep 60")
        live.wait_until(lambda: "failed 2" in tmux.screen("t"), 30, "two failures on the dashboard")
        assert "batch e2e" in tmux.screen("t")
        tmux("send-keys", "-t", "t", "F")
        live.wait_until(lambda: "Failed videos of batch e2e: 2" in tmux.screen("t"), 15, "the Failed screen")
        tmux("send-keys", "-t", "t", "r")

        def requeued() -> list[str]:
            return [e["key"] for e in live.events(batch) if e["type"] == "video_queued" and e.get("reset_budget")]

        assert live.wait_until(requeued, 15, "a retry through the engine")[0] in ("local__bad1", "local__bad2")
        tmux("send-keys", "-t", "t", "q")
        live.wait_until(lambda: "EXITED=" in tmux.screen("t"), 15, "detach")
        screen = tmux.screen("t")
        assert "EXITED=1" not in screen and f"Re-attach with: vidops --workspace {live.ws} attach e2e" in screen.replace("\n", "")
        assert live.alive(batch), "detaching must not stop the batch"
        live.wait_ended(batch, ends=1, timeout=60)
        events = live.events(batch)
        assert events[-1]["type"] == "batch_finished"
        assert any(e["type"] == "video_succeeded" and e["key"] == "local__v0" for e in events)
        tmux("new-window", "-t", "t", "-n", "again", f"{base} attach {batch}; echo EXITED=$?; sleep 60")
        live.wait_until(lambda: "batch e2e [finished]" in tmux.screen("t:again"), 20, "the re-attached console")
        tmux("send-keys", "-t", "t:again", "q")
        live.wait_until(lambda: "EXITED=0" in tmux.screen("t:again"), 15, "the second detach")
    finally:
        tmux.kill()
