"""Fault injection for tests and drills: ``VIDOPS_FAULTS`` makes chosen attempts slow or crash.

Format (JSON): ``{"<video_key>": {"sleep_s": 5, "attempts": [1], "heartbeat": true, "exit": 0}}``.
``sleep_s`` delays the attempt (sending progress heartbeats unless ``heartbeat`` is false, which
simulates a stall); ``exit`` ends the worker process abruptly with that code (a crash);
``raise`` raises an error of that class (``cuda_oom``, ``oom``, ``unknown``, ``undecodable``). Faults
apply to the listed attempts (all when omitted). Unset in normal operation: then this is a no-op.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from typing import Any

from engine import errors

ENV = "VIDOPS_FAULTS"


def load() -> dict[str, dict[str, Any]]:
    raw = os.environ.get(ENV)
    if not raw:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError(f"{ENV} must be a JSON object keyed by video key")
    return data


def inject(faults: dict[str, dict[str, Any]], key: str, attempt: int, progress: Callable[[str, float], None]) -> None:
    fault = faults.get(key)
    if not fault or (fault.get("attempts") and attempt not in fault["attempts"]):
        return
    sleep_s = float(fault.get("sleep_s", 0))
    end = time.monotonic() + sleep_s
    while time.monotonic() < end:
        if fault.get("heartbeat", True):
            progress("fault_sleep", 0.0)
        time.sleep(min(0.2, max(end - time.monotonic(), 0)))
    if "exit" in fault:
        os._exit(int(fault["exit"]))
    if "raise" in fault:
        raise _RAISES[fault["raise"]](f"injected fault ({fault['raise']}) on {key} attempt {attempt}")


def _unknown(message: str) -> Exception:
    return RuntimeError(message)


_RAISES: dict[str, Callable[[str], Exception]] = {
    "cuda_oom": errors.CudaOutOfMemory,
    "oom": errors.OutOfMemory,
    "undecodable": errors.Undecodable,
    "unknown": _unknown,
}
