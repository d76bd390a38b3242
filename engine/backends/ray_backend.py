"""The Ray backend: each video attempt is a Ray task; the supervisor stays the Ray driver.

Scheduling, retries, the event log and the control socket are the supervisor's, exactly as
with the local pool; this backend only turns ``start`` into a Ray task (with the configured
``ray_num_cpus``/``ray_num_gpus``, Ray's own retries off) and turns what comes back into the
supervisor's ``on_*`` calls. Every tick, :meth:`RayBackend.check` drains the :class:`Inbox`
actor (task start with pid and node, progress, finished components) and polls the task refs
with ``ray.wait(timeout=0)``; a :class:`Waker` thread wakes the loop as soon as a task ends. Components arrive through the object store and the driver writes
them into the result store, so workers need no shared output filesystem. A worker or node
loss is a transient ``worker_lost`` failure; timeouts, stalls and the RSS limit cancel the
task with ``ray.cancel(force=True)``.

Concurrency: ``workers`` is the number of slots (tasks in flight); Ray picks the processes.
Ray is imported lazily here, so ``import engine`` never loads it.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine import faults
from engine.backends import BackendUnavailable
from engine.backends.ray_flight import KILL_CLASSES, Flight, first_line, kill_failure, prior_arrays
from engine.backends.ray_inputs import ShipPolicy, read_input
from engine.backends.ray_session import connect, effective_address
from engine.backends.ray_waker import Waker
from engine.errors import classify

if TYPE_CHECKING:
    from engine.supervisor import Supervisor

log = logging.getLogger(__name__)
class RayBackend:
    def __init__(self, sup: Supervisor, workers: int) -> None:
        from engine.backends.ray_task import Inbox, run_video

        self.sup = sup
        self.pool = sup.settings.pool
        self.target = workers
        try:
            self.ship = ShipPolicy.from_env(self.pool.ray_ship, self.pool.ray_ship_max_mb)
        except ValueError as exc:
            raise BackendUnavailable(str(exc)) from None
        self.faults = faults.load()
        self.address = effective_address(self.pool.ray_address)
        self.ray, self._owns_ray = connect(self.address)
        ray = self.ray
        try:
            self.node_id: str | None = ray.get_runtime_context().get_node_id()
        except Exception:  # noqa: BLE001 - e.g. Ray Client: the driver is on no node
            self.node_id = None
        # The inbox lives on the driver's node when it can, so it fails only with the driver.
        placement: dict[str, Any] = {}
        if self.node_id is not None:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            placement["scheduling_strategy"] = NodeAffinitySchedulingStrategy(self.node_id, soft=True)
        self._inbox_cls = ray.remote(num_cpus=0, **placement)(Inbox)
        self.inbox = self._inbox_cls.remote()
        self._check_inbox()
        self._drain: Any = None
        self._task = ray.remote(  # vidops retries, so the state log counts every attempt
            num_cpus=self.pool.ray_num_cpus, num_gpus=self.pool.ray_num_gpus, max_retries=0,
            retry_exceptions=False, max_calls=self.pool.max_videos_per_worker)(run_video)
        self.flights: dict[str, Flight] = {}
        self.slot_proc: dict[int, tuple[int, str | None]] = {}  # slot -> (pid, node ip) last seen
        self.procs: dict[tuple[str | None, int | None], int] = {}  # (node id, pid) -> worker number
        self.videos_done: dict[int, int] = {}
        self._next_worker = 0
        self._seq = 0
        self._waker: Waker | None = None
        self._sel: selectors.BaseSelector | None = None
        self._check_resources()

    def _check_inbox(self) -> None:
        """Every task reports through the inbox actor: one the cluster will not run (e.g. the driver
        and the cluster disagree on RAY_AUTH_MODE) would let every video run to its end and then
        fail as 'results did not reach the driver', retries included. Fail the batch at once."""
        try:
            self.ray.get(self.inbox.flush.remote(), timeout=self.pool.start_timeout_s)
        except Exception as exc:  # noqa: BLE001 - any failure of the actor is fatal for the batch
            with contextlib.suppress(Exception):
                self.ray.kill(self.inbox)
            if self._owns_ray:
                with contextlib.suppress(Exception):
                    self.ray.shutdown()
            where = repr(self.address) if self.address else "the local Ray"
            raise BackendUnavailable(
                f"pool.backend = 'ray': {where} did not run the driver's progress actor "
                f"({type(exc).__name__}: {first_line(exc)}; waited up to {self.pool.start_timeout_s:g} s); check that the "
                "driver and the cluster use the same RAY_AUTH_MODE and token (~/.ray/auth_token)") from None

    def _check_resources(self) -> None:
        from engine.alerts import Alert

        total = self.ray.cluster_resources()
        need = {"CPU": self.pool.ray_num_cpus, "GPU": self.pool.ray_num_gpus}
        short = [f"{k} {v:g} > {total.get(k, 0):g}" for k, v in need.items() if v > total.get(k, 0)]
        if short:  # Ray keeps infeasible tasks pending (an autoscaler may add nodes): warn, don't fail
            self.sup.alert(Alert("ray_resources", "warning",
                                 "per-video Ray resources exceed the cluster's: " + ", ".join(short)))

    # -- the Backend protocol ---------------------------------------------------------
    def register(self, sel: selectors.BaseSelector) -> None:
        """Register the waker's pipe once; hand it the refs in flight on every loop iteration."""
        if self._waker is None:
            self._waker, self._sel = Waker(self.ray), sel
            sel.register(self._waker.fd, selectors.EVENT_READ, "ray")
        self._waker.watch([f.ref for f in self.flights.values()])

    def on_readable(self, token: Any) -> None:
        """A task ended: the supervisor runs :meth:`check` right after this."""
        if self._waker is not None:
            self._waker.drain()

    def ensure_workers(self) -> None:
        """Ray starts worker processes itself."""

    def set_workers(self, n: int) -> None:
        self.target = n  # running tasks finish; new ones respect the new limit

    def has_idle(self) -> bool:
        return len(self.flights) < self.target

    def busy(self) -> bool:
        return bool(self.flights)

    def start(self, key: str, task: dict[str, Any], *, run_id: str, attempt: int, scale: float) -> None:
        used = {f.slot for f in self.flights.values()}
        slot = next(i for i in range(1, len(used) + 2) if i not in used)
        self._seq += 1
        token = f"{key}#{attempt}#{self._seq}"
        run = self.sup.store.run_dir(task["platform_id"], task["video_id"], run_id)
        self.sup.on_started(key, slot, None, run_id, attempt, scale)
        try:
            manifest = run.start(task, run_id, self.sup.config_hash)
        except OSError as exc:
            c = classify(exc)
            self.sup.on_failed(key, c.error_class, c.transient, c.known, f"cannot open the run directory: {exc}")
            return
        spec = {"token": token, "task": task, "run_id": run_id, "attempt": attempt, "scale": scale,
                "settings": self.sup.settings, "manifest": manifest, "prior_arrays": prior_arrays(run, manifest),
                "faults": self.faults,
                "result_store_root": str(self.sup.store.root.resolve()),
                "threads": max(1, int(self.pool.ray_num_cpus))}
        f = Flight(token, key, slot, run, run_id, spec)
        f.last_progress = f.submitted
        self.flights[token] = f
        self._submit(f, self.ship.mode == "always")

    def _submit(self, f: Flight, ship: bool) -> None:
        blob = None
        if ship:
            data = read_input(f.spec["task"]["video_path"], self.ship.max_bytes)
            if data is not None:
                blob, f.shipped = self.ray.put(data), True
        f.submitted = time.monotonic()
        f.ref = self._task.remote(f.spec, self.inbox, blob)

    def check(self, now: float) -> None:
        self._poll_inbox(block=False)
        if self.flights:
            refs = [f.ref for f in self.flights.values()]
            ready, _ = self.ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
            done = {r.hex() for r in ready}
            for f in [f for f in self.flights.values() if f.ref.hex() in done]:
                self._finish(f)
        for f in list(self.flights.values()):
            if f.kill_reason is not None:
                continue
            # The attempt's clock starts when a worker runs it, as locally; waiting for Ray to place
            # and start it (worker start-up, busy cluster) is bounded by start_timeout_s instead.
            if not f.started and now - f.submitted > self.pool.start_timeout_s:
                self._cancel(f, "start_timeout")
            elif f.started and now - f.began > self.pool.video_timeout_s:
                self._cancel(f, "timeout")
            elif f.started and now - f.last_progress > self.pool.stall_timeout_s:
                from engine.alerts import AlertRules

                self.sup.alert(AlertRules.stalled(f.key, f.slot, now - f.last_progress))
                self._cancel(f, "stalled")

    def check_memory(self, metrics: dict[str, Any]) -> None:
        if not self.pool.max_rss_mb:
            return
        by_slot = {f.slot: f for f in self.flights.values()}
        for wid, info in metrics.get("workers", {}).items():
            f = by_slot.get(int(wid))
            if f is not None and f.kill_reason is None and info.get("rss_mb", 0) > self.pool.max_rss_mb:
                self._cancel(f, "oom")

    def worker_pids(self) -> dict[int, int]:
        """Pids of running tasks on the driver's node (others cannot be sampled from here)."""
        return {f.slot: f.pid for f in self.flights.values() if f.pid is not None and f.node_id == self.node_id}

    def kill_busy(self, reason: str) -> None:
        for f in list(self.flights.values()):
            if f.kill_reason is None:
                self._cancel(f, reason)

    def describe(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        by_slot = {f.slot: f for f in self.flights.values()}
        rows = []
        for slot in range(1, max([self.target, *by_slot]) + 1):
            f = by_slot.get(slot)
            pid, ip = self.slot_proc.get(slot, (None, None))
            rows.append({"worker": slot, "pid": f.pid if f else pid, "node": f.node_ip if f else ip,
                         "state": "busy" if f else "idle", "video": f.key if f else None,
                         "stage": f.stage if f else "", "fraction": f.fraction if f else 0.0,
                         "videos_done": self.videos_done.get(slot, 0),
                         "elapsed_s": round(now - (f.began or f.submitted), 1) if f else None})
        return rows

    def shutdown(self) -> None:
        ray = self.ray
        if self._waker is not None:
            if self._sel is not None:
                with contextlib.suppress(KeyError, ValueError):
                    self._sel.unregister(self._waker.fd)
            self._waker.close()
            self._waker = None
        for f in list(self.flights.values()):
            self._cancel(f, f.kill_reason or "shutdown")
        self.flights.clear()
        with contextlib.suppress(Exception):  # the actor may already be gone with its node
            ray.kill(self.inbox)
        if self._owns_ray:
            ray.shutdown()

    # -- internals --------------------------------------------------------------------
    def _cancel(self, f: Flight, reason: str) -> None:
        f.kill_reason = reason
        try:
            self.ray.cancel(f.ref, force=True)
        except Exception as exc:  # noqa: BLE001 - already finished or its node is gone
            log.debug("cancel %s: %s", f.token, exc)

    def _poll_inbox(self, block: bool) -> None:
        """Handle what the tasks reported; ``block`` waits for everything already sent."""
        ray = self.ray
        try:
            if self._drain is not None:
                if not block and not ray.wait([self._drain], timeout=0, fetch_local=True)[0]:
                    return
                self._handle(ray.get(self._drain))
                self._drain = None
            if block:
                self._handle(ray.get(self.inbox.drain.remote()))
            else:
                self._drain = self.inbox.drain.remote()
        except ray.exceptions.RayActorError as exc:  # its node died: open a new one; losses show up below
            log.warning("progress inbox lost (%s); starting a new one", exc)
            self.inbox, self._drain = self._inbox_cls.remote(), None

    def _handle(self, msgs: list[tuple[str, str, dict[str, Any]]]) -> None:
        now = time.monotonic()
        for token, kind, fields in msgs:
            f = self.flights.get(token)
            if f is None:
                continue  # a finished or abandoned attempt
            if kind == "started":
                f.started, f.began, f.last_progress, f.stage = True, now, now, "starting"
                f.pid, f.node_id, f.node_ip = int(fields["pid"]), fields.get("node_id"), fields.get("node_ip")
                self.slot_proc[f.slot] = (f.pid, f.node_ip)
                f.worker = self._worker_number(f)
                self.sup.state.video(f.key).pid = f.pid  # live view (video_started had no pid yet)
            elif kind == "progress":
                f.last_progress, f.stage, f.fraction = now, fields["stage"], float(fields["fraction"])
                self.sup.on_progress(f.key, f.stage, f.fraction)
            elif kind == "component":
                f.last_progress = now
                try:
                    f.run.write_component(fields["name"], version=fields["version"], arrays=fields["arrays"],
                                          summary=fields["summary"], status=fields["status"],
                                          reason=fields["reason"], wall_s=fields["wall_s"])
                except OSError as exc:
                    f.write_error = f"cannot write {fields['name']} into {f.run.path}: {exc}"
                    continue
                self.sup.on_component(f.key, fields["name"], fields["status"], float(fields["wall_s"]),
                                      fields["reason"])
            elif kind == "update":
                try:
                    f.run.update(**fields["fields"])
                except OSError as exc:
                    f.write_error = f"cannot update {f.run.manifest_path}: {exc}"

    def _finish(self, f: Flight) -> None:
        self._poll_inbox(block=True)  # the task flushed its messages before returning
        self.flights.pop(f.token, None)
        try:
            out: dict[str, Any] = self.ray.get(f.ref)
        except Exception as exc:  # noqa: BLE001 - Ray's errors: the task never returned
            self._lost(f, exc)
            return
        self._append_log(f, out.get("log") or [])
        kind = out.get("type")
        path = f.spec["task"]["video_path"]
        if (kind == "need_input" and not f.shipped and self.ship.mode != "never"
                and read_input(path, self.ship.max_bytes, probe_only=True) is not None):
            self.flights[f.token] = f  # the same attempt again, with the file in the object store
            f.started, f.stage = False, "shipping input"
            self._submit(f, ship=True)
            return
        self.videos_done[f.slot] = self.videos_done.get(f.slot, 0) + 1
        if kind == "need_input":
            self.sup.on_failed(f.key, "missing_file", False, True,
                               f"{path} is not visible on Ray node {out.get('node_ip')} and is not shipped "
                               f"({self.ship.describe()}); put inputs on a filesystem every node mounts")
        elif f.write_error:
            self.sup.on_failed(f.key, "io_transient", True, True, f.write_error)
        elif kind == "done":
            missing = [c for c in out.get("components", {}) if c not in f.run.manifest().get("components", {})]
            if missing:  # a component message was lost in transit: never mark such a run complete
                self.sup.on_failed(f.key, "worker_lost", True, True,
                                   f"results of {', '.join(missing)} did not reach the driver")
                return
            f.run.complete()
            self.sup.on_succeeded(f.key, f.run_id, float(out.get("wall_s", 0.0)), out.get("components", {}))
        else:
            self.sup.on_failed(f.key, out.get("error_class", "unknown"), bool(out.get("transient")),
                               bool(out.get("known", True)), out.get("message", ""))

    def _lost(self, f: Flight, exc: BaseException) -> None:
        """The task ended without returning: cancelled by us, or its worker or node died."""
        ray = self.ray
        self.videos_done[f.slot] = self.videos_done.get(f.slot, 0) + 1
        where = f"slot {f.slot}, pid {f.pid}, node {f.node_ip}"
        if f.kill_reason in KILL_CLASSES:
            cls, msg = kill_failure(f.kill_reason, self.pool)
        elif isinstance(exc, ray.exceptions.OutOfMemoryError):
            cls, msg = "oom", f"killed by Ray's memory monitor: {first_line(exc)}"
        elif isinstance(exc, ray.exceptions.RayTaskError) and not isinstance(exc, ray.exceptions.TaskCancelledError):
            c = classify(getattr(exc, "cause", None) or exc)  # raised outside the task's own handler
            self.sup.on_failed(f.key, c.error_class, c.transient, c.known, f"{first_line(exc)} ({where})")
            return
        else:
            cls, msg = "worker_lost", f"worker lost ({type(exc).__name__}: {first_line(exc)})"
        if f.worker is not None:
            self.slot_proc.pop(f.slot, None)
            self.procs.pop((f.node_id, f.pid), None)
            self.sup.emit("worker_exited", worker=f.worker, pid=f.pid, node=f.node_ip, exit_code=None, signal=None,
                          reason=f.kill_reason or "crashed", slot=f.slot)
        self.sup.on_failed(f.key, cls, True, True, f"{msg} ({where})", worker_lost=cls == "worker_lost")

    def _worker_number(self, f: Flight) -> int:
        """Ray reuses worker processes across tasks: number each one once, when first seen."""
        ident = (f.node_id, f.pid)
        if ident not in self.procs:
            self._next_worker += 1
            self.procs[ident] = self._next_worker
            self.sup.emit("worker_started", worker=self.procs[ident], pid=f.pid, node=f.node_ip,
                          node_id=f.node_id, slot=f.slot)
        return self.procs[ident]

    def _append_log(self, f: Flight, lines: list[str]) -> None:
        if not lines:
            return
        try:
            path: Path = self.sup.paths.video_log(f.key)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
        except OSError as exc:
            log.warning("cannot append to the video log of %s: %s", f.key, exc)
