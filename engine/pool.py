"""The local backend: supervised worker subprocesses speaking JSON lines over pipes.

Why not a library pool: pebble's ProcessPool (and concurrent.futures) handle per-task
timeouts and dead workers, but they hide worker pids, cannot stream per-video progress back,
and cannot kill a worker for a stall or an RSS limit while the task runs. Those are the core
of this runner, so supervision is explicit here: each worker is a ``subprocess.Popen`` with
a command pipe (stdin) and a message pipe (an inherited fd), watched by the supervisor's
selector loop. The supervisor, not the pool, decides what a death means.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from engine.resources import thread_env


@dataclass
class WorkerHandle:
    """One worker process and what it is doing."""

    worker_id: int
    proc: subprocess.Popen[bytes]
    msg_fd: int
    spawned_at: float
    state: str = "starting"  # starting | idle | busy | exiting | dead
    video_key: str | None = None
    task_started: float = 0.0
    last_progress: float = 0.0
    videos_done: int = 0
    stage: str = ""
    fraction: float = 0.0
    kill_reason: str | None = None  # set when the supervisor kills it (timeout, stall, oom, stop)
    _buf: bytes = field(default=b"", repr=False)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, obj: dict[str, Any]) -> bool:
        """Write one command; False when the worker's stdin is gone."""
        stdin: IO[bytes] | None = self.proc.stdin
        if stdin is None:
            return False
        try:
            stdin.write(json.dumps(obj).encode() + b"\n")
            stdin.flush()
            return True
        except (BrokenPipeError, OSError):
            return False

    def read_messages(self) -> tuple[list[dict[str, Any]], bool]:
        """Drain the message pipe; returns (messages, eof)."""
        try:
            chunk = os.read(self.msg_fd, 1 << 16)
        except BlockingIOError:
            return [], False
        except OSError:
            return [], True
        if not chunk:
            return [], True
        self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        out = []
        for line in lines:
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue  # a worker killed mid-write; its death is handled separately
        return out, False

    def kill(self, reason: str) -> None:
        self.kill_reason = self.kill_reason or reason
        try:
            self.proc.send_signal(signal.SIGKILL)
        except ProcessLookupError:
            pass

    def close(self) -> None:
        try:
            os.close(self.msg_fd)
        except OSError:
            pass
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass


def spawn_worker(worker_id: int, batch_dir: Path, log_path: Path, pool_size: int = 1) -> WorkerHandle:
    """Start ``python -m engine.worker`` with a private message pipe."""
    r, w = os.pipe()
    os.set_blocking(r, False)
    # Workers share the CPU: each gets cores // workers threads for decoders and numeric libraries.
    env = {**os.environ, **thread_env(pool_size), "VIDOPS_MSG_FD": str(w), "PYTHONUNBUFFERED": "1"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "engine.worker", str(batch_dir), str(worker_id)],
            stdin=subprocess.PIPE, stdout=log, stderr=log, pass_fds=(w,), close_fds=True, env=env,
        )
    os.close(w)
    now = time.monotonic()
    return WorkerHandle(worker_id, proc, r, spawned_at=now, last_progress=now)


def default_workers(workers_per_gpu: int) -> int:
    """GPUs × workers_per_gpu when NVIDIA GPUs are present, else CPU cores."""
    from engine.monitor import gpu_count

    gpus = gpu_count()
    return gpus * workers_per_gpu if gpus else (os.cpu_count() or 1)
