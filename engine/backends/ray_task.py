"""What one video attempt does on a Ray worker (the Ray counterpart of :mod:`engine.worker`).

:func:`run_video` is the Ray task body. It reports to the driver through an :class:`Inbox`
actor (``started`` with its pid and node, throttled ``progress``, and one ``component`` message
per finished component carrying its arrays, summary and status) and returns a small outcome
dict: ``done``, ``error`` (already classified), or ``need_input`` when the video's path is not
visible on this node and no copy was shipped. The driver writes every component into the
result store, so workers need no shared output filesystem; a lost worker keeps the components
it reported, and the retry resumes at the first missing one (the driver passes the manifest and
the finished components' arrays in, so modules that read them need not recompute them).

This module is imported only on Ray workers and by the Ray backend, never by ``import engine``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np

from engine import faults
from engine.errors import classify
from engine.store import fingerprint, record_component

PROGRESS_GAP_S = 0.1  # the supervisor throttles further


class Inbox:
    """A Ray actor the tasks push messages into and the driver drains every tick."""

    def __init__(self) -> None:
        self._msgs: list[tuple[str, str, dict[str, Any]]] = []

    def put(self, token: str, kind: str, fields: dict[str, Any]) -> None:
        self._msgs.append((token, kind, fields))

    def flush(self) -> bool:
        """Calls from one caller run in order, so this returning means its puts have landed."""
        return True

    def drain(self) -> list[tuple[str, str, dict[str, Any]]]:
        out, self._msgs = self._msgs, []
        return out


class MemorySink:
    """A :class:`~engine.store.ResultSink` that keeps the manifest in memory and ships each write.

    It starts from the run's existing manifest (so the pipeline skips finished components) and
    sends every ``write_component``/``update`` to the driver, which replays it into the RunDir.
    """

    def __init__(self, manifest: dict[str, Any], send: Any,
                 prior: dict[str, dict[str, np.ndarray]] | None = None) -> None:
        self._manifest = manifest
        self._manifest.setdefault("components", {})
        self._arrays: dict[str, dict[str, np.ndarray]] = dict(prior or {})  # earlier attempts' NPZs
        self._send = send

    def manifest(self) -> dict[str, Any]:
        return self._manifest

    def write_component(self, name: str, *, version: str, arrays: dict[str, np.ndarray] | None,
                        summary: dict[str, Any], status: str = "done", reason: str | None = None,
                        wall_s: float = 0.0) -> None:
        record_component(self._manifest, name, version=version, status=status, summary=summary,
                         reason=reason, wall_s=wall_s, arrays=arrays)
        if arrays is not None and status == "done":
            self._arrays[name] = {k: np.asarray(v) for k, v in arrays.items()}
        self._send("component", name=name, version=version, arrays=arrays, summary=summary, status=status,
                   reason=reason, wall_s=wall_s)

    def arrays(self, name: str) -> dict[str, np.ndarray]:
        """Arrays written in this attempt or shipped from earlier ones (modules read their inputs)."""
        if name not in self._arrays:
            raise OSError(f"{name}.npz is not on this worker")
        return self._arrays[name]

    def update(self, **fields: Any) -> None:
        self._manifest.update(fields)
        self._send("update", fields=fields)

    def complete(self) -> None:
        self._manifest["status"] = "complete"  # the driver marks the RunDir complete on 'done'


class _Lines(logging.Handler):
    """Collects this attempt's log lines; the driver appends them to the batch's video log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def _visible(path: str, fp: dict[str, Any] | None) -> bool:
    """Is the driver's file readable here, with the same size and edge hash?"""
    try:
        here = fingerprint(path)
    except OSError:
        return False
    return fp is None or (here["size"] == fp.get("size") and here["edge_sha256"] == fp.get("edge_sha256"))


def _limit_threads(n: int) -> None:
    """Use the task's reserved CPUs for decoders and numeric libraries, as a local worker does."""
    from engine.resources import ENV, apply_thread_limits

    for var in (ENV, "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(max(1, int(n)))
    apply_thread_limits()


def run_video(spec: dict[str, Any], inbox: Any, blob: bytes | None) -> dict[str, Any]:
    """The Ray task: process one video attempt and return its outcome (see the module doc)."""
    import ray

    token, task = spec["token"], dict(spec["task"])
    ctx = ray.get_runtime_context()

    def send(kind: str, **fields: Any) -> None:
        inbox.put.remote(token, kind, fields)

    send("started", pid=os.getpid(), node_id=ctx.get_node_id(), node_ip=ray.util.get_node_ip_address())
    _limit_threads(spec.get("threads", 1))
    from engine.pipeline import process_video  # a fresh worker's first task pays the import here
    last = [0.0]

    def progress(stage: str, fraction: float) -> None:
        now = time.monotonic()
        if fraction >= 1.0 or now - last[0] >= PROGRESS_GAP_S:
            last[0] = now
            send("progress", stage=stage, fraction=round(float(fraction), 4))

    lines = _Lines()
    root = logging.getLogger()
    root.addHandler(lines)
    root.setLevel(min(root.level or logging.INFO, logging.INFO))
    log = logging.getLogger("vidops.ray_worker")
    tmp: tempfile.TemporaryDirectory[str] | None = None
    t0 = time.perf_counter()
    try:
        log.info("attempt %s of %s (%s) on node %s pid %d, batch_size_scale=%s", spec["attempt"], task["key"],
                 task["video_path"], ray.util.get_node_ip_address(), os.getpid(), spec["scale"])
        # VIDOPS_FAULTS {"<key>": {"hide_input": true}} simulates a node that does not mount the input.
        hidden = bool((spec.get("faults") or {}).get(task["key"], {}).get("hide_input"))
        if blob is None and (hidden or not _visible(task["video_path"], task.get("fingerprint"))):
            return {"type": "need_input", "node_ip": ray.util.get_node_ip_address(), "log": lines.lines}
        if blob is not None:  # shipped: use the copy, whatever this node has at that path
            tmp = tempfile.TemporaryDirectory(prefix="vidops-input-")
            local = Path(tmp.name) / (Path(task["video_path"]).name or "input")
            local.write_bytes(blob)
            log.info("input shipped through the object store (%d bytes) to %s", len(blob), local)
            task["video_path"] = str(local)
        faults.inject(spec.get("faults") or {}, task["key"], int(spec["attempt"]), progress)
        sink = MemorySink(spec["manifest"], send, spec.get("prior_arrays"))
        root_dir = spec.get("result_store_root")
        store_root = root_dir if root_dir and os.path.isdir(root_dir) else None  # only on a shared filesystem
        manifest = process_video(task, spec["settings"], sink, progress, float(spec["scale"]), store_root)
        wall = time.perf_counter() - t0
        log.info("done in %.3f s", wall)
        # Every component message is in the inbox before we return; if the inbox is gone, the
        # driver sees components missing and retries the video instead of marking it complete.
        with contextlib.suppress(Exception):
            ray.get(inbox.flush.remote())
        comps = {k: v.get("status") for k, v in manifest.get("components", {}).items()}
        return {"type": "done", "wall_s": round(wall, 4), "components": comps, "log": lines.lines}
    except Exception as exc:  # noqa: BLE001 - every failure is classified and reported
        c = classify(exc)
        tb = traceback.format_exc()
        log.error("failed (%s, %s): %s\n%s", c.error_class, "transient" if c.transient else "permanent", exc, tb)
        with contextlib.suppress(Exception):  # the components it did report are still written
            ray.get(inbox.flush.remote())
        return {"type": "error", "error_class": c.error_class, "transient": c.transient, "known": c.known,
                "message": f"{type(exc).__name__}: {exc}" if not c.known else str(exc),
                "wall_s": round(time.perf_counter() - t0, 4), "log": lines.lines}
    finally:
        root.removeHandler(lines)
        if tmp is not None:
            tmp.cleanup()
