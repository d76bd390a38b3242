"""A pool worker process: ``python -m engine.worker BATCH_DIR WORKER_ID``.

Reads one JSON command per line on stdin (``run`` a video, or ``exit``) and writes JSON
messages to the file descriptor named by ``VIDOPS_MSG_FD`` (ready, progress, component_done,
done, error). Stdout/stderr are left to libraries. The worker dies with its supervisor
(PR_SET_PDEATHSIG) and ignores SIGINT, so Ctrl-C reaches only the supervisor, which decides.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from engine import extractors, faults
from engine.batch import BatchPaths, load_batch_config
from engine.config import Settings
from engine.errors import classify
from engine.pipeline import component_versions, process_video
from engine.resources import apply_thread_limits
from engine.store import ResultStore, RunDir

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # not Linux: the stdin EOF check below still ends the worker


class Channel:
    """Line-delimited JSON messages to the supervisor."""

    def __init__(self, fd: int) -> None:
        self._fh = os.fdopen(fd, "wb", buffering=0)

    def send(self, type_: str, **fields: Any) -> None:
        self._fh.write(json.dumps({"type": type_, **fields}, default=str).encode() + b"\n")


class ReportingSink:
    """Wraps a :class:`RunDir` so every finished component is reported as it lands."""

    def __init__(self, inner: RunDir, channel: Channel) -> None:
        self.inner, self.channel = inner, channel

    def manifest(self) -> dict[str, Any]:
        return self.inner.manifest()

    def write_component(self, name: str, *, version: str, arrays: dict[str, np.ndarray] | None,
                        summary: dict[str, Any], status: str = "done", reason: str | None = None,
                        wall_s: float = 0.0) -> None:
        self.inner.write_component(name, version=version, arrays=arrays, summary=summary,
                                   status=status, reason=reason, wall_s=wall_s)
        self.channel.send("component_done", component=name, status=status, wall_s=round(wall_s, 4), reason=reason)

    def update(self, **fields: Any) -> None:
        self.inner.update(**fields)

    def complete(self) -> None:
        self.inner.complete()


def _video_logger(path: Path) -> tuple[logging.Logger, logging.Handler]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    return logging.getLogger("vidops.worker"), handler


def run_one(cmd: dict[str, Any], settings: Settings, store: ResultStore, paths: BatchPaths, channel: Channel,
            injected: dict[str, dict[str, Any]] | None = None) -> None:
    task = cmd["task"]
    log, handler = _video_logger(paths.video_log(task["key"]))
    t0 = time.perf_counter()
    last = [0.0]

    def progress(stage: str, fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - last[0] >= 0.1:  # the supervisor throttles further
            last[0] = now
            channel.send("progress", stage=stage, fraction=round(float(fraction), 4))

    try:
        log.info("attempt %s of %s (%s), batch_size_scale=%s", cmd.get("attempt"), task["key"], task["video_path"],
                 cmd.get("batch_size_scale", 1.0))
        run = store.run_dir(task["platform_id"], task["video_id"], cmd["run_id"])
        # Another batch may be extracting the same video into the same run directory: wait for
        # it (most of this attempt's time limit, so the reason is ours and not a bare timeout).
        with run.locked(0.9 * settings.pool.video_timeout_s,
                        heartbeat=lambda: progress("waiting_for_other_writer", 0.0)) as waited:
            faults.inject(injected or {}, task["key"], int(cmd.get("attempt", 1)), progress)
            if run.is_complete(cmd["run_id"]):
                log.info("%s is already complete (written by another process%s); reused, nothing recomputed",
                         run.path, " while this one waited" if waited else "")
                manifest = run.manifest()
            else:
                if waited:
                    log.info("the process that held %s exited before completing it; resuming its partial run",
                             run.path)
                run.start(task, cmd["run_id"], cmd["config_hash"])
                manifest = process_video(task, settings, ReportingSink(run, channel), progress,
                                         float(cmd.get("batch_size_scale", 1.0)), str(store.root))
        wall = time.perf_counter() - t0
        log.info("done in %.3f s", wall)
        comps = {k: v.get("status") for k, v in manifest.get("components", {}).items()}
        channel.send("done", wall_s=round(wall, 4), run_id=cmd["run_id"], components=comps)
    except Exception as exc:  # noqa: BLE001 - every failure is classified and reported
        c = classify(exc)
        tb = traceback.format_exc()
        log.error("failed (%s, %s): %s\n%s", c.error_class, "transient" if c.transient else "permanent", exc, tb)
        channel.send("error", error_class=c.error_class, transient=c.transient, known=c.known,
                     message=f"{type(exc).__name__}: {exc}" if not c.known else str(exc), traceback=tb,
                     wall_s=round(time.perf_counter() - t0, 4))
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    _die_with_parent()
    apply_thread_limits()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    paths = BatchPaths(Path(argv[0]))
    worker_id = int(argv[1])
    channel = Channel(int(os.environ["VIDOPS_MSG_FD"]))
    _, settings = load_batch_config(paths)
    store = ResultStore(settings.paths.result_store or Path(settings.paths.workspace) / "result_store")
    injected = faults.load()
    # Import every enabled component's code (scipy, OpenCV, ...) before taking a video, so the
    # first video's time and timeout do not include it and a pool's workers warm up in parallel.
    component_versions(settings)
    extractors.warm_up(settings.extract)  # models (a configured CLAP checkpoint) load once, here
    channel.send("ready", pid=os.getpid(), worker=worker_id)
    for line in sys.stdin:  # EOF: the supervisor is gone or closed us
        if not line.strip():
            continue
        cmd = json.loads(line)
        if cmd.get("op") == "exit":
            break
        if cmd.get("op") == "run":
            run_one(cmd, settings, store, paths, channel, injected)
    return 0


if __name__ == "__main__":
    sys.exit(main())
