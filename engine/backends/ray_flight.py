"""One Ray attempt in flight (:class:`Flight`) and how the Ray backend words its end: the
failure class and message of a task the supervisor cancelled, the first line of a Ray error,
the arrays an earlier attempt of the video already finished."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from engine.config import PoolSettings
from engine.store import RunDir

# What a cancel by the supervisor means for the video that was running (as in the local backend).
KILL_CLASSES = {"timeout": "timeout", "stalled": "stalled", "oom": "oom", "interrupted": "interrupted",
                 "start_timeout": "worker_lost"}


@dataclass
class Flight:
    """One submitted attempt: its slot, Ray ref and what the task has told us."""

    token: str
    key: str
    slot: int
    run: RunDir
    run_id: str
    spec: dict[str, Any]
    ref: Any = None
    submitted: float = field(default_factory=time.monotonic)
    began: float = 0.0  # when the task reported it started on a worker
    last_progress: float = 0.0
    started: bool = False
    stage: str = "waiting for Ray"
    fraction: float = 0.0
    pid: int | None = None
    node_id: str | None = None
    node_ip: str | None = None
    kill_reason: str | None = None
    shipped: bool = False
    write_error: str | None = None
    worker: int | None = None  # vidops's number for the Ray worker process running it


def kill_failure(reason: str, pool: PoolSettings) -> tuple[str, str]:
    """(error class, message) of a task cancelled for ``reason`` (a key of :data:`KILL_CLASSES`)."""
    cls = KILL_CLASSES[reason]
    msg = {"timeout": f"timed out after {pool.video_timeout_s:g} s",
           "stalled": f"no progress for {pool.stall_timeout_s:g} s",
           "oom": f"worker RSS over {pool.max_rss_mb} MiB",
           "interrupted": "batch stopped while the video was running",
           "worker_lost": f"Ray did not start the task within {pool.start_timeout_s:g} s"}[cls]
    return cls, msg


def prior_arrays(run: RunDir, manifest: dict[str, Any]) -> dict[str, Any]:
    """NPZs of components an earlier attempt finished (a resume), for modules that read them."""
    out = {}
    for name, c in manifest.get("components", {}).items():
        if c.get("status") == "done" and c.get("npz"):
            with contextlib.suppress(OSError, ValueError):  # unreadable: the module recomputes it
                out[name] = run.arrays(name)
    return out


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
