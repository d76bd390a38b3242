"""The local backend: a supervised pool of worker subprocesses on this machine."""

from __future__ import annotations

import selectors
import time
from typing import TYPE_CHECKING, Any

from engine.pool import WorkerHandle, spawn_worker

if TYPE_CHECKING:
    from engine.supervisor import Supervisor

MAX_START_FAILURES = 5
# What a kill by the supervisor means for the video that was running.
_KILL_CLASSES = {"timeout": "timeout", "stalled": "stalled", "oom": "oom", "interrupted": "interrupted",
                 "start_timeout": "worker_lost"}


class LocalBackend:
    def __init__(self, sup: Supervisor, workers: int) -> None:
        self.sup = sup
        self.pool = sup.settings.pool
        self.target = workers
        self.workers: dict[int, WorkerHandle] = {}
        self._next_id = 0
        self._start_failures = 0
        self._sel: selectors.BaseSelector | None = None
        self._log = sup.paths.logs / "workers.log"

    def ensure_workers(self) -> None:
        """Start workers up to the target, but not more than the waiting work can use: a re-run
        with two new videos in a list of done ones started the whole pool (each worker importing
        and warming up its models) for nothing."""
        busy = sum(1 for w in self._active() if w.state == "busy")
        wanted = min(self.target, busy + len(self.sup.ready))
        while len(self._active()) < wanted and not self.sup.stopping:
            self._spawn()

    # -- pool management --------------------------------------------------------------
    def _spawn(self) -> None:
        self._next_id += 1
        w = spawn_worker(self._next_id, self.sup.paths.root, self._log, self.target)
        self.workers[w.worker_id] = w
        if self._sel is not None:
            self._sel.register(w.msg_fd, selectors.EVENT_READ, w.worker_id)

    def register(self, sel: selectors.BaseSelector) -> None:
        if self._sel is None:
            self._sel = sel
            for w in self.workers.values():
                sel.register(w.msg_fd, selectors.EVENT_READ, w.worker_id)

    def _active(self) -> list[WorkerHandle]:
        return [w for w in self.workers.values() if w.state != "exiting"]

    def _retire(self, w: WorkerHandle, reason: str) -> None:
        w.state, w.kill_reason = "exiting", reason
        if not w.send({"op": "exit"}):
            w.kill(reason)

    def set_workers(self, n: int) -> None:
        self.target = n
        for w in sorted(self._active(), key=lambda w: w.state != "idle"):
            if len(self._active()) <= n:
                break
            if w.state in ("idle", "starting"):
                self._retire(w, "scaled_down")

    # -- messages ---------------------------------------------------------------------
    def on_readable(self, token: Any) -> None:
        w = self.workers.get(token)
        if w is None:
            return
        msgs, eof = w.read_messages()
        for msg in msgs:
            self._handle(w, msg)
        if eof:
            self._reap(w)

    def _handle(self, w: WorkerHandle, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        now = time.monotonic()
        if kind == "ready":
            self._start_failures = 0
            if w.state == "starting":
                w.state = "idle"
            self.sup.emit("worker_started", worker=w.worker_id, pid=w.pid)
            return
        key = w.video_key
        if key is None:
            return
        if kind == "progress":
            w.last_progress, w.stage, w.fraction = now, msg.get("stage", ""), float(msg.get("fraction", 0.0))
            self.sup.on_progress(key, w.stage, w.fraction)
        elif kind == "component_done":
            w.last_progress = now
            self.sup.on_component(key, msg.get("component", "?"), msg.get("status", "done"),
                                  float(msg.get("wall_s", 0.0)), msg.get("reason"))
        elif kind in ("done", "error"):
            w.video_key, w.state, w.stage, w.fraction = None, "idle", "", 0.0
            w.videos_done += 1
            if kind == "done":
                self.sup.on_succeeded(key, msg.get("run_id", ""), float(msg.get("wall_s", 0.0)), msg.get("components", {}))
            else:
                self.sup.on_failed(key, msg.get("error_class", "unknown"), bool(msg.get("transient")),
                                   bool(msg.get("known", True)), msg.get("message", ""))
            if self.pool.max_videos_per_worker and w.videos_done >= self.pool.max_videos_per_worker:
                self._retire(w, "recycled")
            elif len(self._active()) > self.target:
                self._retire(w, "scaled_down")

    def _reap(self, w: WorkerHandle) -> None:
        """A worker's pipe closed or its process ended: record it, fail its video, replace it."""
        msgs, _ = w.read_messages()
        for msg in msgs:
            self._handle(w, msg)
        if self._sel is not None:
            try:
                self._sel.unregister(w.msg_fd)
            except (KeyError, ValueError):
                pass
        w.close()
        try:
            rc = w.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - a zombie that will not go: kill and move on
            w.kill("unresponsive")
            rc = w.proc.wait()
        self.workers.pop(w.worker_id, None)
        self.sup.emit("worker_exited", worker=w.worker_id, pid=w.pid,
                      exit_code=rc if rc >= 0 else None, signal=-rc if rc < 0 else None,
                      reason=w.kill_reason or ("exit" if rc == 0 else "crashed"))
        if w.video_key is not None:
            cls = _KILL_CLASSES.get(w.kill_reason or "", "worker_lost")
            how = f"killed by signal {-rc}" if rc < 0 else f"exit code {rc}"
            text = {"timeout": f"timed out after {self.pool.video_timeout_s:g} s",
                    "stalled": f"no progress for {self.pool.stall_timeout_s:g} s",
                    "oom": f"worker RSS over {self.pool.max_rss_mb} MiB",
                    "interrupted": "batch stopped while the video was running"}.get(cls, f"worker lost ({how})")
            self.sup.on_failed(w.video_key, cls, True, True, f"{text} (worker {w.worker_id}, pid {w.pid})",
                               worker_lost=cls == "worker_lost")
        # A worker that hangs before ready (killed at start_timeout_s) failed to start as much as
        # one that crashed: without counting it, a hang in warm-up respawned workers forever.
        if w.state == "starting" and w.kill_reason in (None, "start_timeout"):
            self._start_failures += 1
            if self._start_failures >= MAX_START_FAILURES:
                self.sup.on_fatal(f"{self._start_failures} workers in a row died before becoming ready; see {self._log}")
                return
        if self.sup.ready and not self.sup.stopping and not self.sup.fatal:
            self.ensure_workers()

    # -- watching ---------------------------------------------------------------------
    def check(self, now: float) -> None:
        for w in list(self.workers.values()):
            if w.proc.poll() is not None:
                self._reap(w)
                continue
            if w.state == "busy":
                if now - w.task_started > self.pool.video_timeout_s:
                    w.kill("timeout")
                elif now - w.last_progress > self.pool.stall_timeout_s and w.kill_reason is None:
                    from engine.alerts import AlertRules

                    self.sup.alert(AlertRules.stalled(w.video_key or "?", w.worker_id, now - w.last_progress))
                    w.kill("stalled")
            elif w.state == "starting" and now - w.spawned_at > self.pool.start_timeout_s:
                w.kill("start_timeout")

    def check_memory(self, metrics: dict[str, Any]) -> None:
        if not self.pool.max_rss_mb:
            return
        for wid, info in metrics.get("workers", {}).items():
            w = self.workers.get(int(wid))
            if w is not None and w.state == "busy" and info.get("rss_mb", 0) > self.pool.max_rss_mb:
                w.kill("oom")

    def worker_pids(self) -> dict[int, int]:
        return {w.worker_id: w.pid for w in self.workers.values()}

    def has_idle(self) -> bool:
        return any(w.state == "idle" for w in self.workers.values())

    def busy(self) -> bool:
        return any(w.state == "busy" for w in self.workers.values())

    def start(self, key: str, task: dict[str, Any], *, run_id: str, attempt: int, scale: float) -> None:
        w = next(w for w in self.workers.values() if w.state == "idle")
        now = time.monotonic()
        w.state, w.video_key, w.task_started, w.last_progress = "busy", key, now, now
        w.stage, w.fraction = "starting", 0.0
        self.sup.on_started(key, w.worker_id, w.pid, run_id, attempt, scale)
        ok = w.send({"op": "run", "task": task, "run_id": run_id, "config_hash": self.sup.config_hash,
                     "attempt": attempt, "batch_size_scale": scale})
        if not ok:
            w.kill("send_failed")  # reaped on the next check: the video fails as worker_lost

    def kill_busy(self, reason: str) -> None:
        for w in self.workers.values():
            if w.state == "busy":
                w.kill(reason)

    def describe(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        return [{"worker": w.worker_id, "pid": w.pid, "state": w.state, "video": w.video_key, "stage": w.stage,
                 "fraction": w.fraction, "videos_done": w.videos_done,
                 "elapsed_s": round(now - w.task_started, 1) if w.state == "busy" else None}
                for w in sorted(self.workers.values(), key=lambda w: w.worker_id)]

    def shutdown(self) -> None:
        for w in list(self.workers.values()):
            if w.state != "busy":
                w.send({"op": "exit"})
            else:
                w.kill("shutdown")
        deadline = time.monotonic() + 3.0
        for w in list(self.workers.values()):
            try:
                w.proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
            except Exception:  # noqa: BLE001
                w.kill("shutdown")
                w.proc.wait()
            w.close()
        self.workers.clear()
