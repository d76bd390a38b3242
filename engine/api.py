"""The public engine API: the one surface the CLI, the console and scripts use.

Start or resume a batch (in the foreground or detached), follow its events from an offset,
read its progress and status, and send commands to its live supervisor. Nothing here imports
a UI library.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_json  # noqa: F401 - re-exported for clients writing job files
from engine.batch import (
    BatchAborted,
    BatchLocked,
    BatchNotFound,
    BatchPaths,
    WorkspaceError,
    batch_paths,
    create_batch,
    list_batches,
    read_lock_pid,
    supervisor_alive,
    workspace_error,
)
from engine.batch_input import ListFileError, read_list
from engine.config import Settings
from engine.control import ControlError, send_command
from engine.events import follow, read_events
from engine.hints import vidops_command
from engine.pipeline import settings_hash
from engine.state import BatchState, replay, retry_candidates
from engine.supervisor import Supervisor
from engine.text import plural

Listener = Callable[[dict[str, Any]], None]

__all__ = [
    "BatchAborted", "BatchLocked", "BatchNotFound", "BatchPaths", "ControlError", "ListFileError", "batch_status",
    "command", "follow_events", "latest_batch", "list_batch_summaries", "prepare_batch", "read_events_from",
    "read_progress", "resume_batch", "retry_plan", "retry_videos", "run_foreground", "start_detached", "stop_batch",
    "SupervisorFailed", "supervisor_running", "video_detail", "WorkspaceError",
]


def prepare_batch(workspace: str | os.PathLike[str], settings: Settings, list_path: str,
                  batch_id: str | None = None) -> BatchPaths:
    """Validate the list file and create the batch directory (raises ListFileError)."""
    rows = read_list(list_path)
    if not rows:
        raise ListFileError(f"{list_path}: the list has no videos")
    ws = Path(workspace).resolve()
    from engine.config import with_workspace

    frozen = with_workspace(settings, str(ws))
    return create_batch(ws, frozen, rows, list_path, settings_hash(frozen), batch_id)


def run_foreground(paths: BatchPaths, listeners: list[Listener] | None = None, *, workers: int | None = None,
                   retry_keys: list[str] | None = None, retry_all_failed: bool = False,
                   include_permanent: bool = False) -> int:
    """Run (or resume) the batch's supervisor in this process; returns the exit code."""
    sup = Supervisor(paths, listeners=listeners, workers=workers, retry_keys=retry_keys,
                     retry_all_failed=retry_all_failed, include_permanent=include_permanent)
    return sup.run()


def start_detached(paths: BatchPaths, *, workers: int | None = None, retry_keys: list[str] | None = None,
                   retry_all_failed: bool = False, include_permanent: bool = False,
                   wait_s: float = 30.0) -> int:
    """Start the supervisor as a daemon (new session, output to supervisor.log); returns its pid."""
    if supervisor_alive(paths):
        raise BatchLocked(f"batch {paths.batch_id} is already run by supervisor pid {read_lock_pid(paths)}")
    cmd = [sys.executable, "-m", "engine.daemon", str(paths.root)]
    if workers:
        cmd += ["--workers", str(workers)]
    for key in retry_keys or []:
        cmd += ["--retry", key]
    if retry_all_failed:
        cmd.append("--retry-all-failed")
    if include_permanent:
        cmd.append("--include-permanent")
    try:
        log = open(paths.supervisor_log, "ab")  # noqa: SIM115 - closed below, once the daemon has it
    except OSError as exc:
        raise workspace_error(paths.supervisor_log, exc) from None
    with log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                start_new_session=True, close_fds=True)
    # Ready means *this* daemon holds the lock and has opened its control socket: a control.addr
    # left by a killed supervisor, or one written by a concurrent 'resume --detach' that won the
    # lock, must not pass for it (that reported a dead pid and hid start-up failures).
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline and proc.poll() is None and not _daemon_ready(paths, proc.pid):
        time.sleep(0.05)
    if proc.poll() is None or read_lock_pid(paths) == proc.pid:
        return proc.pid  # running, or it took the lock and already ran the batch to its end
    if proc.returncode == 2 and supervisor_alive(paths):
        raise BatchLocked(f"batch {paths.batch_id} is already run by supervisor pid {read_lock_pid(paths)}")
    raise SupervisorFailed(f"the supervisor of batch {paths.batch_id} exited with code {proc.returncode} before "
                           f"it started the batch; see {paths.supervisor_log}")


class SupervisorFailed(RuntimeError):
    """A detached supervisor ended before it took the batch (its log says why)."""


def _daemon_ready(paths: BatchPaths, pid: int) -> bool:
    if read_lock_pid(paths) != pid:
        return False
    try:  # the lock file is rewritten when taken, so a fresh control.addr is never older
        return paths.control_addr.stat().st_mtime_ns >= paths.lock.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def resume_batch(workspace: str | os.PathLike[str], batch_id: str, *, detach: bool = False,
                 listeners: list[Listener] | None = None, **kwargs: Any) -> int:
    """Continue a stopped or crashed batch: everything not finished is re-queued."""
    paths = batch_paths(workspace, batch_id)
    if detach:
        return start_detached(paths, **kwargs) and 0
    return run_foreground(paths, listeners, **kwargs)


def retry_videos(workspace: str | os.PathLike[str], batch_id: str, keys: list[str], *, all_failed: bool = False,
                 include_permanent: bool = False, detach: bool = True) -> dict[str, Any]:
    """Re-queue failed videos: into the live supervisor, else by resuming the batch."""
    paths = batch_paths(workspace, batch_id)
    if supervisor_alive(paths):
        return send_command(paths, "retry", keys=keys, all_failed=all_failed, include_permanent=include_permanent)
    chosen, nothing = retry_plan(workspace, batch_id, keys, all_failed, include_permanent)
    if nothing is not None:
        # Nothing would run: say why instead of starting a supervisor that finishes at once.
        return {"ok": True, "requeued": [], "resumed": False, "message": nothing}
    if detach:
        pid = start_detached(paths, retry_keys=keys, retry_all_failed=all_failed, include_permanent=include_permanent)
        return {"ok": True, "requeued": chosen, "resumed": True, "pid": pid}
    code = run_foreground(paths, retry_keys=keys, retry_all_failed=all_failed, include_permanent=include_permanent)
    return {"ok": True, "requeued": chosen, "resumed": True, "exit_code": code}


def nothing_to_retry(state: BatchState, keys: list[str], workspace: str | os.PathLike[str] | None = None,
                     batch_id: str = "") -> str:
    """Why a retry re-queues nothing; a hint naming ``--workspace`` when ``workspace`` is not ./workspace."""
    if not state.events_seen:
        batch = state.batch_id or batch_id
        resume = vidops_command(f"resume {batch or 'BATCH'}", workspace)
        return f"nothing to retry: batch {batch or 'this batch'} has never started; '{resume}' starts it"
    if keys:  # named but not failed (retry_candidates takes every named failure)
        return f"nothing to retry: {keys[0]} has not failed (it is {state.videos[keys[0]].status})"
    failed = state.failed()
    permanent = [v for v in failed if not v.transient and v.error_class != "unknown"]
    if not failed:
        return "nothing to retry: no video of this batch failed"
    return (f"nothing to retry: {len(permanent)} of {plural(len(failed), 'failure')} "
            f"{'is' if len(permanent) == 1 else 'are'} permanent (bad input); fix the input, "
            "then name it with --video KEY, or add --include-permanent to --all-failed")


def retry_plan(workspace: str | os.PathLike[str], batch_id: str, keys: list[str], all_failed: bool,
               include_permanent: bool) -> tuple[list[str], str | None]:
    """What a retry of a batch without a live supervisor would re-queue, and why nothing would run."""
    state = replay(batch_paths(workspace, batch_id).state)
    unknown = [k for k in keys if k not in state.videos]
    if unknown:
        raise KeyError(f"no video {unknown[0]!r} in batch {batch_id} "
                       f"(keys: '{vidops_command(f'status {batch_id} --json', workspace)}')")
    chosen = retry_candidates(state, keys, all_failed, include_permanent)
    return chosen, (nothing_to_retry(state, keys, workspace, batch_id) if not chosen and not state.unfinished() else None)


def command(workspace: str | os.PathLike[str], batch_id: str, name: str, **args: Any) -> dict[str, Any]:
    """Send a control command (status, pause, resume, stop, retry, set_workers)."""
    return send_command(batch_paths(workspace, batch_id), name, **args)


def stop_batch(workspace: str | os.PathLike[str], batch_id: str, now: bool = False) -> dict[str, Any]:
    return command(workspace, batch_id, "stop", now=now)


def load_state(workspace: str | os.PathLike[str], batch_id: str) -> BatchState:
    return replay(batch_paths(workspace, batch_id).state)


def batch_status(workspace: str | os.PathLike[str], batch_id: str) -> dict[str, Any]:
    """Status from the event log (the source of truth) plus liveness of the supervisor."""
    from engine.progress import build_progress

    paths = batch_paths(workspace, batch_id)
    state = replay(paths.state)
    alive = supervisor_alive(paths)
    live = read_progress(workspace, batch_id) if alive else None
    if not alive:
        for v in state.videos.values():
            if v.status == "running":  # in flight when the supervisor died: resume re-queues it
                v.status = "queued"
    if not state.events_seen:  # created, never started (its daemon failed, or Ctrl-C before it began)
        state.batch_id, state.total = paths.batch_id, _list_size(paths) or 0
    elif not alive and state.finished_ts is None:
        state.finished_ts = state.last_ts  # interrupted: measured at its last event, not decayed since
    doc = build_progress(state, (live or {}).get("workers", []))
    if not state.events_seen:
        doc["counts"]["queued"] = state.total
    if not alive:
        doc["eta_s"] = None  # nothing is running, so nothing will finish
    if alive:
        doc["state"] = "paused" if (live or {}).get("paused") else ("stopping" if (live or {}).get("stopping") else "running")
        if doc["state"] != "running":
            doc["eta_s"] = None  # paused or stopping: the queue will not drain at the recent rate
    elif state.state in ("running", "paused", "unknown"):
        doc["state"] = "interrupted" if state.events_seen else "created"
    doc["supervisor_pid"] = read_lock_pid(paths) if alive else None
    doc["batch_dir"] = str(paths.root)
    failed = state.failed()[:1000]
    rows = _list_rows(paths) if failed else {}  # the list row to fix, for failures found by a worker too
    doc["failed"] = [{"key": v.key, "error_class": v.error_class, "message": v.error_message, "attempts": v.attempts,
                      "transient": v.transient, "row": rows.get(v.key)} for v in failed]
    return doc


def _list_rows(paths: BatchPaths) -> dict[str, int]:
    from engine.batch import load_videos

    try:
        return {r["key"]: r["row"] for r in load_videos(paths) if "row" in r}
    except (OSError, ValueError):
        return {}


def invalid_list_ids(workspace: str | os.PathLike[str], batch_id: str) -> dict[str, tuple[str, str]]:
    """{key: (platform_id, video_id)} of the batch's invalid list rows.

    They never get a ``video_queued`` event (the event that names a video's ids), so the event log
    alone knows them only by key. Empty when the batch or its list cannot be read.
    """
    from engine.batch import load_videos

    try:
        return {str(r["key"]): (str(r.get("platform_id") or ""), str(r.get("video_id") or ""))
                for r in load_videos(batch_paths(workspace, batch_id)) if r.get("invalid") and "key" in r}
    except (BatchNotFound, OSError, ValueError):
        return {}


def read_progress(workspace: str | os.PathLike[str], batch_id: str) -> dict[str, Any] | None:
    import json

    try:
        data: dict[str, Any] = json.loads(batch_paths(workspace, batch_id).progress.read_text())
        return data
    except (OSError, ValueError):
        return None


def list_batch_summaries(workspace: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """One line per batch: id, state, counts (from progress.json; cheap for many batches)."""
    out = []
    for paths in list_batches(workspace):
        alive = supervisor_alive(paths)
        prog = read_progress(workspace, paths.batch_id) or {}
        if not alive and _progress_behind_log(paths, prog):
            # Its supervisor was killed after events that progress.json does not show yet (it is
            # rewritten at most once a second, and last after the batch's final event): the log
            # is the truth. Only then is the log read, so listing many batches stays cheap.
            doc = batch_status(workspace, paths.batch_id)
            prog = {"state": doc["state"], "counts": doc["counts"],
                    "updated_at": prog.get("updated_at") or _mtime(paths.state)}
        state = prog.get("state") or ("running" if alive else "created")  # no progress.json yet
        if not alive and state in ("running", "paused"):
            state = "interrupted"
        counts = prog.get("counts") or _queued_counts(paths)
        if not alive and counts.get("running"):  # in flight when its supervisor died: resume re-queues them
            counts = {**counts, "queued": counts.get("queued", 0) + counts["running"], "running": 0}
        out.append({"batch_id": paths.batch_id, "state": state, "counts": counts,
                    "alive": alive, "updated_at": prog.get("updated_at")})
    return out


def _progress_behind_log(paths: BatchPaths, prog: dict[str, Any]) -> bool:
    """progress.json (``prog``) of a batch with no live supervisor lacks events of its log.

    progress.json records the size of state.jsonl it reflects (``log_bytes``). One written before
    that field existed is trusted when it shows an ended batch, and read as behind otherwise."""
    try:
        size = paths.state.stat().st_size
    except OSError:
        return False  # never started: nothing to read
    if not size:
        return False
    if "log_bytes" in prog:
        return bool(prog["log_bytes"] != size)
    return prog.get("state") not in ("finished", "stopped", "error")


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _list_size(paths: BatchPaths) -> int | None:
    """The number of videos in the batch's list (batch.toml), None when it cannot be read."""
    import tomllib

    try:
        with paths.config.open("rb") as fh:
            return int(tomllib.load(fh)["batch"]["videos"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _queued_counts(paths: BatchPaths) -> dict[str, int]:
    """Counts of a batch with no progress yet: every video of its list still queued (was all zeros)."""
    n = _list_size(paths)
    if n is None:
        return {}
    return {"total": n, "queued": n, "running": 0, "done": 0, "skipped": 0, "failed": 0}


def latest_batch(workspace: str | os.PathLike[str]) -> str | None:
    batches = list_batches(workspace)
    if not batches:
        return None
    return max(batches, key=lambda p: p.config.stat().st_mtime).batch_id


def read_events_from(workspace: str | os.PathLike[str], batch_id: str, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Events appended since ``offset`` (no full re-read) and the new offset."""
    res = read_events(batch_paths(workspace, batch_id).state, offset, max_bytes=8 << 20)
    return res.events, res.offset


def follow_events(workspace: str | os.PathLike[str], batch_id: str, offset: int = 0,
                  until_done: bool = True) -> Iterator[dict[str, Any]]:
    """Yield events as they are written; with ``until_done`` stop after the batch ends."""
    paths = batch_paths(workspace, batch_id)
    idle_since = time.monotonic()
    for ev, _ in _follow_with_timeout(paths, offset):
        if ev is None:
            if until_done and not supervisor_alive(paths) and time.monotonic() - idle_since > 1.0:
                return
            continue
        idle_since = time.monotonic()
        yield ev
        if until_done and ev.get("type") in ("batch_finished", "batch_stopped") and not supervisor_alive(paths):
            return


def _follow_with_timeout(paths: BatchPaths, offset: int) -> Iterator[tuple[dict[str, Any] | None, int]]:
    while True:
        res = read_events(paths.state, offset, max_bytes=8 << 20)
        if res.offset == offset:
            yield None, offset
            time.sleep(0.2)
            continue
        offset = res.offset
        for ev in res.events:
            yield ev, offset


_ = follow  # the raw tail is available as engine.events.follow


def supervisor_running(workspace: str | os.PathLike[str], batch_id: str) -> bool:
    """True while a live supervisor holds the batch (a cheap lock probe, no log replay)."""
    return supervisor_alive(batch_paths(workspace, batch_id))


def video_detail(workspace: str | os.PathLike[str], batch_id: str, key: str, *, platform_id: str = "",
                 video_id: str = "", run_id: str | None = None, tail_lines: int = 60) -> dict[str, Any]:
    """Read-only detail of one video: its manifest's components and the tail of its log.

    ``platform_id``/``video_id``/``run_id`` come from the caller's folded state (no replay here).
    ``traceback`` is the last Python traceback found in the log, or None.
    """
    from engine.batch import load_batch_config
    from engine.store import ResultStore, load_manifest

    paths = batch_paths(workspace, batch_id)
    manifest: dict[str, Any] | None = None
    manifest_path: str | None = None
    if run_id and platform_id and video_id:
        _, settings = load_batch_config(paths)
        root = settings.paths.result_store or Path(settings.paths.workspace) / "result_store"
        run = ResultStore(root).run_dir(platform_id, video_id, run_id)
        manifest, manifest_path = load_manifest(run.path), str(run.manifest_path)
    log_path = paths.video_log(key)
    try:
        with log_path.open("rb") as fh:
            fh.seek(max(0, fh.seek(0, os.SEEK_END) - (256 << 10)))  # the tail only
            lines = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        lines = []
    tb_start = max((i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")),
                   default=None)
    traceback = None
    if tb_start is not None:
        tb_lines = [lines[tb_start]]
        for line in lines[tb_start + 1:]:
            tb_lines.append(line)
            if line and not line[0].isspace():  # the exception line ends the traceback
                break
        traceback = "\n".join(tb_lines)
    return {"key": key, "manifest": manifest, "manifest_path": manifest_path,
            "components": dict((manifest or {}).get("components") or {}), "log_path": str(log_path),
            "log_tail": lines[-tail_lines:], "traceback": traceback}
