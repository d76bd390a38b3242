"""The batch supervisor: owns scheduling, the worker pool, the event log and the control channel.

One supervisor per batch (flock). It replays ``state.jsonl`` on start, so the same code runs
a new batch and resumes a crashed or stopped one. Everything it decides is an event, written
to the log first and then applied to the in-memory :class:`BatchState`.
"""

from __future__ import annotations

import heapq
import logging
import os
import selectors
import signal
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine import retry
from engine.alerts import Alert, AlertRules
from engine.atomic import atomic_write_json, remove_stale_temps
from engine.backends import Backend, BackendUnavailable, make_backend
from engine.batch import BatchAborted, BatchPaths, SupervisorLock, load_batch_config, load_videos
from engine.control import ControlServer, reply
from engine.events import EventWriter
from engine.hints import vidops_command
from engine.monitor import Monitor
from engine.progress import build_progress
from engine.state import FINAL_STATUSES, BatchState, replay, retry_candidates
from engine.store import ResultStore, fingerprint, make_run_id

log = logging.getLogger(__name__)
Listener = Callable[[dict[str, Any]], None]
_FILE_PROBLEMS = ("file not found", "not a regular file", "not readable")
EXIT_OK, EXIT_FAILURES, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 3, 130


class Supervisor:
    def __init__(self, paths: BatchPaths, *, listeners: list[Listener] | None = None,
                 retry_keys: list[str] | None = None, retry_all_failed: bool = False,
                 include_permanent: bool = False, workers: int | None = None,
                 install_signals: bool = True) -> None:
        if workers is not None and workers < 1:  # a pool of 0 or fewer never starts a video: it would wait forever
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.paths = paths
        self.meta, self.settings = load_batch_config(paths)
        self.config_hash: str = self.meta["config_hash"]
        self.listeners = list(listeners or [])
        self.store = ResultStore(self.settings.paths.result_store or Path(self.settings.paths.workspace) / "result_store")
        self.tasks = {row["key"]: row for row in load_videos(paths)}
        self.state = BatchState()
        self.ready: deque[str] = deque()
        self._prepared: dict[str, tuple[dict[str, Any], str]] = {}
        self.retries: list[tuple[float, str]] = []  # (due monotonic, key)
        self.paused = False
        self.stopping: str | None = None  # None | "graceful" | "now"
        self.stop_deadline = 0.0
        self.fatal: str | None = None
        self.rules = AlertRules(self.settings.alerts)
        # A mistyped key must fail before anything is written: a batch_started event without
        # its batch_finished would turn a finished batch into an "interrupted" one.
        self._check_keys(retry_keys or [])
        self._retry_request = (retry_keys or [], retry_all_failed, include_permanent)
        self._workers_override = workers
        self._install_signals = install_signals
        self._last_progress_event: dict[str, float] = {}
        self._min_progress_gap = 1.0 / self.settings.monitor.progress_events_per_s
        self.writer: EventWriter | None = None
        self.backend: Backend | None = None

    # -- events -------------------------------------------------------------------------
    def emit(self, type_: str, **fields: Any) -> dict[str, Any]:
        assert self.writer is not None
        try:
            ev = self.writer.emit(type_, **fields)
        except OSError as exc:
            raise self._log_failed(exc) from exc
        self.state.apply(ev)
        for listener in list(self.listeners):
            try:
                listener(ev)
            except OSError as exc:  # a closed pipe or terminal ('| head'): expected, one line is enough
                log.warning("display output closed (%s); the batch goes on without it", exc)
                self.listeners.remove(listener)
            except Exception:  # noqa: BLE001 - a broken display must not stop the batch
                log.exception("event listener failed; detaching it")
                self.listeners.remove(listener)
        return ev

    def commit(self) -> None:
        """fsync the video outcomes written since the last commit (one fsync per loop pass)."""
        assert self.writer is not None
        try:
            self.writer.commit()
        except OSError as exc:
            raise self._log_failed(exc) from exc

    def _log_failed(self, exc: OSError) -> BatchAborted:
        # The log is the source of truth: without it nothing can be decided safely. Stop
        # (the finally of run() kills the workers) with a message, not a traceback.
        return BatchAborted(f"cannot write the event log {self.paths.state}: {exc.strerror or exc}; batch "
                            f"{self.paths.batch_id} stopped, nothing finished is lost: fix that (free disk space), "
                            f"then '{vidops_command(f'resume {self.paths.batch_id}', self.paths.workspace)}'")

    def alert(self, a: Alert) -> None:
        self.emit("alert", **a.fields())

    # -- set-up ---------------------------------------------------------------------------
    def _prepare(self) -> None:
        # A supervisor killed while rewriting progress.json or control.addr left its temp file;
        # the batch lock (held) makes this the only writer of both.
        remove_stale_temps(self.paths.root, (self.paths.progress.name, self.paths.control_addr.name))
        replay(self.paths.state, self.state)
        resumed = self.state.events_seen > 0
        if self.state.skipped_lines:
            log.warning("%s: skipped %d torn event line(s) on replay", self.paths.state, self.state.skipped_lines)
        # Video outcomes are fsynced by commit() once per loop pass, after the next videos are
        # dispatched: a per-outcome fsync held every free worker for the disk (bench/batch_scale.py).
        self.writer = EventWriter(self.paths.state, defer_durable=True)
        n = self._workers_override or self.settings.pool.workers or _auto_workers(self.settings.pool.workers_per_gpu)
        self.emit("batch_started", batch_id=self.paths.batch_id, total=len(self.tasks), config_hash=self.config_hash,
                  workers=n, resumed=resumed, pid=os.getpid(), backend=self.settings.pool.backend)
        keys, all_failed, include_permanent = self._retry_request
        for key, row in self.tasks.items():
            v = self.state.videos.get(key)
            if v is not None and v.status in FINAL_STATUSES:
                continue
            if row.get("invalid"):
                self._fail(key, "invalid_input", False, True, row["invalid"])
                continue
            self._queue(key)
        if keys or all_failed:
            self.retry_videos(keys, all_failed, include_permanent)
        try:
            self.backend = make_backend(self, n)
        except BackendUnavailable as exc:  # e.g. Ray missing or its cluster unreachable: no worker can start
            self.on_fatal(str(exc))  # close the batch_started above (else it reads as a crash: "interrupted")
            self.emit("batch_finished", state="error", counts=self.state.counts(), message=self.fatal)
            raise

    def _queue(self, key: str, reset_budget: bool = False) -> None:
        row = self.tasks[key]
        self.emit("video_queued", key=key, platform_id=row["platform_id"], video_id=row["video_id"],
                  reset_budget=reset_budget)
        self.ready.append(key)

    # -- the loop -------------------------------------------------------------------------
    def run(self) -> int:
        lock = SupervisorLock(self.paths)
        lock.acquire()
        control: ControlServer | None = None
        old_handlers = self._signals() if self._install_signals else {}
        try:
            self._prepare()
            assert self.backend is not None
            control = ControlServer(self.paths)
            sel = selectors.DefaultSelector()
            sel.register(control, selectors.EVENT_READ, "control")
            monitor = Monitor(str(self.paths.root), str(self.store.root))
            next_metrics = next_progress = 0.0
            while True:
                self.backend.register(sel)
                for key, _ in sel.select(timeout=0.1):
                    if key.data == "control":
                        req = control.accept_one()
                        if req is not None:
                            reply(req[0], self.handle_command(req[1]))
                    else:
                        self.backend.on_readable(key.data)
                now = time.monotonic()
                self.backend.check(now)
                if now >= next_metrics:
                    next_metrics = now + self.settings.monitor.interval_s
                    metrics = monitor.sample(self.backend.worker_pids())
                    self.emit("metrics", **metrics)
                    for a in self.rules.on_metrics(metrics):
                        self.alert(a)
                    self.backend.check_memory(metrics)
                self._schedule(now)
                self.commit()  # before progress.json: it never runs ahead of the durable log
                if now >= next_progress:
                    next_progress = now + self.settings.monitor.progress_interval_s
                    self.write_progress()
                if self._done(now):
                    break
            return self._finish()
        finally:
            if self.backend is not None:
                self.backend.shutdown()
            if control is not None:
                control.close()
            if self.writer is not None:
                self.write_progress()
                try:
                    self.writer.close()
                except OSError:  # already reported as BatchAborted; do not mask it
                    log.exception("closing the event log failed")
            for sig, handler in old_handlers.items():
                signal.signal(sig, handler)
            lock.release()

    def _done(self, now: float) -> bool:
        assert self.backend is not None
        if self.fatal:
            return True
        if self.stopping:
            if self.stopping == "now" or now >= self.stop_deadline:
                self.backend.kill_busy("interrupted")
            return not self.backend.busy()
        return not self.ready and not self.retries and not self.backend.busy()

    def _finish(self) -> int:
        counts = self.state.counts()
        if self.fatal:
            self.emit("batch_finished", state="error", counts=counts, message=self.fatal)
            code = EXIT_INTERNAL
        elif self.stopping:
            self.emit("batch_stopped", state="stopped", counts=counts, mode=self.stopping)
            code = EXIT_INTERRUPTED
        else:
            self.emit("batch_finished", state="finished", counts=counts)
            code = EXIT_FAILURES if counts["failed"] else EXIT_OK
        # At once, not after the workers are shut down (up to seconds): a supervisor killed in
        # between left a progress.json that said "running" forever ('vidops list': interrupted,
        # with the counts of a second earlier), since a finished batch is never resumed.
        self.write_progress()
        return code

    def _schedule(self, now: float) -> None:
        assert self.backend is not None
        while self.retries and self.retries[0][0] <= now:
            _, key = heapq.heappop(self.retries)
            self._queue(key)
        if self.paused or self.stopping:
            return
        while self.ready:
            key = self.ready[0]
            prepared = self._prepared.get(key) or self._prepare_task(key)
            if prepared is None:  # skipped, failed, or no longer queued
                self.ready.popleft()
                continue
            self._prepared[key] = prepared
            if not self.backend.has_idle():
                # Workers start on demand, so a batch of already-done videos never spawns one.
                self.backend.ensure_workers()
                return
            self.ready.popleft()
            task, run_id = self._prepared.pop(key)
            v = self.state.video(key)
            self.backend.start(key, task, run_id=run_id, attempt=v.attempts + 1, scale=v.batch_size_scale)

    def _prepare_task(self, key: str) -> tuple[dict[str, Any], str] | None:
        """Validate and fingerprint a queued video; None when it was skipped or failed here."""
        row = self.tasks[key]
        if self.state.video(key).status != "queued":
            return None  # queued twice (a retry command raced a retry timer)
        if row.get("invalid"):
            path = row["video_path"]
            if any(p in row["invalid"] for p in _FILE_PROBLEMS) and os.path.isfile(path) and os.access(path, os.R_OK):
                row.pop("invalid")
            else:
                self._fail(key, "invalid_input", False, True, row["invalid"])
                return None
        try:
            fp = fingerprint(row["video_path"])
        except FileNotFoundError:
            self._fail(key, "missing_file", False, True, f"file not found: {row['video_path']}")
            return None
        except OSError as exc:
            self._fail(key, "io_transient", True, True, f"cannot read {row['video_path']}: {exc}")
            return None
        if fp["size"] == 0:  # no worker needed to know an empty file is not a video
            self._fail(key, "not_video", False, True, f"file is empty (0 bytes): {row['video_path']}")
            return None
        run_id = make_run_id(self.config_hash, fp)
        if self.store.is_complete(row["platform_id"], row["video_id"], run_id):
            self.emit("video_skipped", key=key, reason="already_done", run_id=run_id,
                      platform_id=row["platform_id"], video_id=row["video_id"])
            self.rules.on_finished(False)
            return None
        return dict(row, fingerprint=fp), run_id

    # -- outcomes (called by the backend) -------------------------------------------------
    def on_started(self, key: str, worker: int, pid: int | None, run_id: str, attempt: int, scale: float) -> None:
        self.emit("video_started", key=key, worker=worker, pid=pid, run_id=run_id, attempt=attempt,
                  batch_size_scale=scale)

    def on_progress(self, key: str, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_progress_event.get(key, 0.0) < self._min_progress_gap:
            v = self.state.video(key)
            v.stage, v.fraction = stage, fraction  # live view only; not worth an event
            return
        self._last_progress_event[key] = now
        self.emit("video_progress", key=key, stage=stage, fraction=fraction)

    def on_component(self, key: str, component: str, status: str, wall_s: float, reason: str | None) -> None:
        self.emit("video_component_done", key=key, component=component, status=status, wall_s=wall_s, reason=reason)

    def on_succeeded(self, key: str, run_id: str, wall_s: float, components: dict[str, str]) -> None:
        self._last_progress_event.pop(key, None)
        self.emit("video_succeeded", key=key, run_id=run_id, wall_s=wall_s, components=components)
        for a in self.rules.on_finished(False):
            self.alert(a)

    def on_failed(self, key: str, error_class: str, transient: bool, known: bool, message: str,
                  worker_lost: bool = False) -> None:
        self._last_progress_event.pop(key, None)
        if worker_lost:
            for a in self.rules.on_worker_lost():
                self.alert(a)
        self._fail(key, error_class, transient, known, message)

    def on_fatal(self, message: str) -> None:
        self.fatal = message
        self.alert(Alert("fatal", "error", message))

    def _fail(self, key: str, error_class: str, transient: bool, known: bool, message: str) -> None:
        v = self.state.video(key)
        d = retry.decide(self.settings.retry, error_class=error_class, transient=transient, known=known,
                         failures_before=v.counted_failures, batch_size_scale=v.batch_size_scale)
        final = not d.retry and d.counted
        self.emit("video_failed", key=key, error_class=error_class, transient=transient, message=message,
                  attempt=v.attempts, final=final, counted=d.counted)
        if error_class == "cuda_oom":
            self.alert(AlertRules.gpu_oom(key, d.batch_size_scale))
        if d.retry:
            self.emit("video_retry_scheduled", key=key, attempt=v.attempts + 1, delay_s=d.delay_s,
                      batch_size_scale=d.batch_size_scale)
            heapq.heappush(self.retries, (time.monotonic() + d.delay_s, key))
        elif final:
            for a in self.rules.on_finished(True):
                self.alert(a)

    # -- commands -------------------------------------------------------------------------
    def _check_keys(self, keys: list[str]) -> None:
        unknown = [k for k in keys if k not in self.tasks]
        if unknown:
            raise KeyError(f"no video {unknown[0]!r} in batch {self.paths.batch_id} "
                           f"(keys: '{vidops_command(f'status {self.paths.batch_id} --json', self.paths.workspace)}')")

    def retry_videos(self, keys: list[str], all_failed: bool, include_permanent: bool) -> list[str]:
        self._check_keys(keys)
        chosen = retry_candidates(self.state, keys, all_failed, include_permanent)
        for key in chosen:
            self._queue(key, reset_budget=True)
        return chosen

    def handle_command(self, req: dict[str, Any]) -> dict[str, Any]:
        from engine.commands import COMMANDS

        name = str(req.get("command", ""))
        args = req.get("args") or {}
        self.emit("command_received", command=name, args=args)
        handler = COMMANDS.get(name)
        if handler is None:
            return {"ok": False, "error": f"unknown command {name!r} (known: {', '.join(sorted(COMMANDS))})"}
        try:
            return {"ok": True, **handler(self, **args)}
        except (KeyError, TypeError, ValueError) as exc:
            return {"ok": False, "error": str(exc).strip("'\"")}
        finally:
            # Before the reply: a 'vidops status' run right after 'vidops pause' must not read a
            # progress.json that predates the command (it said "running" for up to a second).
            self.commit()  # outcomes it recorded are durable before progress.json and the reply
            self.write_progress()

    def request_stop(self, mode: str = "graceful") -> None:
        if self.stopping == "now" or (self.stopping == mode == "graceful"):
            return  # a repeated 'vidops stop' must not push the grace deadline further out
        self.stopping = mode
        self.stop_deadline = time.monotonic() + (0 if mode == "now" else self.settings.pool.grace_s)

    def write_progress(self) -> None:
        workers = self.backend.describe() if self.backend is not None else []
        # log_bytes: how much of state.jsonl this reflects, so a reader can tell a progress.json
        # that a killed supervisor left behind the log (api.list_batch_summaries) from a current one.
        doc = build_progress(self.state, workers, {"paused": self.paused, "stopping": self.stopping,
                                                   "supervisor_pid": os.getpid(),
                                                   "log_bytes": self.writer.size if self.writer else None})
        try:
            atomic_write_json(self.paths.progress, doc)
        except OSError as exc:  # progress.json is derived from the log: a missed write only delays it
            log.warning("cannot write %s: %s", self.paths.progress, exc)

    def _signals(self) -> dict[int, Any]:
        def on_stop(signum: int, _frame: Any) -> None:
            self.request_stop("now" if self.stopping else "graceful")

        def on_hup(signum: int, _frame: Any) -> None:
            self.listeners.clear()  # the terminal went away: keep running, stop drawing

        old: dict[int, Any] = {}
        for sig, fn in ((signal.SIGINT, on_stop), (signal.SIGTERM, on_stop), (signal.SIGHUP, on_hup)):
            old[sig] = signal.signal(sig, fn)
        return old


def _auto_workers(per_gpu: int) -> int:
    from engine.pool import default_workers

    return default_workers(per_gpu)
