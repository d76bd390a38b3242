"""Driving real batches through the CLI in a subprocess, and reading their event logs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Probe only, fast retries and sampling: batches of generated videos finish in seconds.
FAST = """
[extract]
modules = []
[retry]
backoff_base_s = 0.05
jitter = 0.0
[monitor]
interval_s = 0.5
"""


def vidops(ws: Path, cfg: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 120,
           check: int | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``vidops --workspace WS --config CFG ARGS``; with ``check``, assert the exit code."""
    cmd = [sys.executable, "-m", "console.cli", "--workspace", str(ws), "--config", str(cfg), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                         env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **(env or {})})
    if check is not None:
        assert out.returncode == check, out.stdout + out.stderr
    return out


def events(ws: Path, batch: str) -> list[dict[str, Any]]:
    path = ws / "batches" / batch / "state.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def only_batch(ws: Path) -> str:
    (b,) = [p.name for p in (ws / "batches").iterdir()]
    return b


def wait_for(pred: Callable[[], Any], timeout: float = 60, what: str = "condition", poll_s: float = 0.1) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(poll_s)
    raise AssertionError(f"timed out waiting for {what}")
