"""End-to-end batch runs through the real CLI, real worker processes and real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.batches import FAST, events, only_batch, vidops, wait_for


@pytest.fixture
def setup(tmp_path: Path, make_video: Callable[..., Path]) -> tuple[Path, Path, Path]:
    for i in range(4):
        make_video(f"v{i}.avi", frames=20 + i)
    ws, cfg = tmp_path / "ws", tmp_path / "fast.toml"
    cfg.write_text(FAST)
    return tmp_path, ws, cfg


def write_list(d: Path, names: list[str]) -> Path:
    p = d / "list.csv"
    p.write_text("video_path\n" + "".join(f"{n}\n" for n in names))
    return p


def test_mixed_batch_fails_bad_inputs_and_rerun_skips(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    (d / "zero.mp4").write_bytes(b"")
    (d / "text.mp4").write_text("this is not a video\n")
    lst = write_list(d, ["v0.avi", "v1.avi", "zero.mp4", "text.mp4", "missing.mp4"])
    out = vidops(ws, cfg, "run", str(lst), "--no-ui", "--workers", "2", check=1)
    assert "FAILED" in out.stdout
    doc = json.loads(vidops(ws, cfg, "status", "--json", check=0).stdout)
    assert doc["state"] == "finished"
    assert doc["counts"] | {"total": 5} == {"total": 5, "queued": 0, "running": 0, "done": 2, "skipped": 0, "failed": 3}
    failed = {f["key"]: f for f in doc["failed"]}
    assert failed["local__zero"]["error_class"] == "not_video" and "empty" in failed["local__zero"]["message"]
    assert failed["local__text"]["error_class"] == "not_video"
    assert failed["local__missing"]["error_class"] == "invalid_input" and "not found" in failed["local__missing"]["message"]
    assert all(f["transient"] is False for f in failed.values())
    batch = doc["batch_id"]
    evs = events(ws, batch)
    assert not [e for e in evs if e["type"] == "video_retry_scheduled"]  # permanent: no retry
    manifest = next((ws / "result_store" / "local" / "v0").glob("*/manifest.json"))
    m = json.loads(manifest.read_text())
    assert m["status"] == "complete" and m["components"]["probe"]["summary"]["frame_count"] == 20
    # The same list again: good videos are skipped (idempotency), with no worker spawned for them.
    t0 = time.monotonic()
    vidops(ws, cfg, "run", str(lst), "--no-ui", "--batch-id", "again", check=1)
    assert time.monotonic() - t0 < 5  # interpreter start included; skipping itself is ~ms
    again = events(ws, "again")
    skipped = {e["key"] for e in again if e["type"] == "video_skipped"}
    assert skipped == {"local__v0", "local__v1"}
    assert all(e["reason"] == "already_done" for e in again if e["type"] == "video_skipped")
    assert not [e for e in again if e["type"] == "video_started" and e["key"] in skipped]


def test_list_file_errors_exit_2(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    (d / "bad.csv").write_text("path\nv0.avi\n")
    out = vidops(ws, cfg, "run", str(d / "bad.csv"), "--no-ui", check=2)
    assert "video_path" in out.stderr and "bad.csv" in out.stderr
    (d / "bad.toml").write_text("[pool]\nworkers = 'x'\n")
    out = vidops(ws, d / "bad.toml", "run", str(d / "bad.csv"), "--no-ui", check=2)
    assert "pool.workers" in out.stderr and "bad.toml" in out.stderr
    assert not (ws / "batches").exists()


def test_sigkill_worker_mid_video_is_retried(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    lst = write_list(d, ["v0.avi", "v1.avi"])
    faults = json.dumps({"local__v0": {"sleep_s": 30, "attempts": [1]}})
    out = vidops(ws, cfg, "run", str(lst), "--detach", "--workers", "1", env={"VIDOPS_FAULTS": faults}, check=0)
    batch = out.stdout.strip()
    started = wait_for(lambda: [e for e in events(ws, batch) if e["type"] == "video_started" and e["key"] == "local__v0"],
                       what="v0 to start")
    os.kill(started[0]["pid"], signal.SIGKILL)
    wait_for(lambda: any(e["type"] == "batch_finished" for e in events(ws, batch)), what="batch end")
    evs = events(ws, batch)
    lost = [e for e in evs if e["type"] == "video_failed" and e["key"] == "local__v0"]
    assert lost and lost[0]["error_class"] == "worker_lost" and lost[0]["final"] is False
    exited = [e for e in evs if e["type"] == "worker_exited" and e["pid"] == started[0]["pid"]]
    assert exited and exited[0]["signal"] == signal.SIGKILL
    assert len({e["pid"] for e in evs if e["type"] == "worker_started"}) >= 2  # replaced
    ok = [e for e in evs if e["type"] == "video_succeeded"]
    assert sorted(e["key"] for e in ok) == ["local__v0", "local__v1"]
    assert [e["attempt"] for e in evs if e["type"] == "video_started" and e["key"] == "local__v0"] == [1, 2]


def test_sigkill_supervisor_then_resume_processes_nothing_twice(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    lst = write_list(d, [f"v{i}.avi" for i in range(4)])
    faults = json.dumps({f"local__v{i}": {"sleep_s": 1.0} for i in range(4)})
    batch = vidops(ws, cfg, "run", str(lst), "--detach", "--workers", "1", env={"VIDOPS_FAULTS": faults},
                   check=0).stdout.strip()
    wait_for(lambda: any(e["type"] == "video_succeeded" for e in events(ws, batch)), what="first success")
    sup_pid = int((ws / "batches" / batch / "supervisor.lock").read_text())
    worker_pids = {e["pid"] for e in events(ws, batch) if e["type"] == "worker_started"}
    os.kill(sup_pid, signal.SIGKILL)
    wait_for(lambda: not _alive(sup_pid), what="supervisor death")
    wait_for(lambda: not any(_alive(p) for p in worker_pids), timeout=10, what="workers to die with the supervisor")
    before = events(ws, batch)
    done_before = {e["key"] for e in before if e["type"] == "video_succeeded"}
    assert 1 <= len(done_before) < 4
    status = json.loads(vidops(ws, cfg, "status", batch, "--json", check=0).stdout)
    assert status["state"] == "interrupted"
    vidops(ws, cfg, "resume", batch, "--no-ui", env={"VIDOPS_FAULTS": faults}, check=0)
    after = events(ws, batch)[len(before):]
    restarted = {e["key"] for e in after if e["type"] == "video_started"}
    assert not restarted & done_before
    succeeded = [e["key"] for e in events(ws, batch) if e["type"] == "video_succeeded"]
    assert sorted(succeeded) == [f"local__v{i}" for i in range(4)]  # each exactly once


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie counts as dead
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return False


def test_timeout_is_retried_then_fails(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    cfg.write_text(FAST + "[pool]\nvideo_timeout_s = 1.0\n")
    lst = write_list(d, ["v0.avi"])
    faults = json.dumps({"local__v0": {"sleep_s": 20}})
    vidops(ws, cfg, "run", str(lst), "--no-ui", "--workers", "1", env={"VIDOPS_FAULTS": faults}, check=1)
    evs = events(ws, only_batch(ws))
    fails = [e for e in evs if e["type"] == "video_failed"]
    assert [e["error_class"] for e in fails] == ["timeout"] * 3
    assert [e["final"] for e in fails] == [False, False, True] and all(e["transient"] for e in fails)


def test_stall_and_crash_are_retried(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    cfg.write_text(FAST + "[pool]\nstall_timeout_s = 1.0\n")
    lst = write_list(d, ["v0.avi", "v1.avi"])
    faults = json.dumps({"local__v0": {"sleep_s": 20, "heartbeat": False, "attempts": [1]},
                         "local__v1": {"exit": 7, "attempts": [1]}})
    vidops(ws, cfg, "run", str(lst), "--no-ui", "--workers", "2", env={"VIDOPS_FAULTS": faults}, check=0)
    evs = events(ws, only_batch(ws))
    classes = {e["key"]: e["error_class"] for e in evs if e["type"] == "video_failed"}
    assert classes == {"local__v0": "stalled", "local__v1": "worker_lost"}
    kinds = {e["kind"] for e in evs if e["type"] == "alert"}
    assert "stalled" in kinds
    assert {e["key"] for e in evs if e["type"] == "video_succeeded"} == {"local__v0", "local__v1"}
    assert any(e["type"] == "worker_exited" and e["exit_code"] == 7 for e in evs)


def test_detach_status_control_stop_and_resume(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    cfg.write_text(FAST + "[pool]\ngrace_s = 0.2\n")
    lst = write_list(d, [f"v{i}.avi" for i in range(4)])
    faults = json.dumps({f"local__v{i}": {"sleep_s": 4, "attempts": [1]} for i in range(4)})
    env = {"VIDOPS_FAULTS": faults}
    batch = vidops(ws, cfg, "run", str(lst), "--detach", "--workers", "1", env=env, check=0).stdout.strip()
    doc = json.loads(vidops(ws, cfg, "status", batch, "--json", check=0).stdout)
    assert doc["state"] == "running" and doc["batch_id"] == batch and doc["supervisor_pid"]
    assert set(doc["counts"]) >= {"queued", "running", "done", "skipped", "failed"} and "alerts" in doc
    # Commands from other processes go through the control socket and are logged.
    assert json.loads(vidops(ws, cfg, "pause", batch, check=0).stdout)["paused"] is True
    assert json.loads(vidops(ws, cfg, "workers", batch, "2", check=0).stdout)["workers"] == 2
    assert "resumed" in vidops(ws, cfg, "resume", batch, check=0).stdout
    assert vidops(ws, cfg, "workers", batch, "0", check=2).returncode == 2
    vidops(ws, cfg, "stop", batch, check=0)
    wait_for(lambda: any(e["type"] == "batch_stopped" for e in events(ws, batch)), what="stop")
    evs = events(ws, batch)
    cmds = [e["command"] for e in evs if e["type"] == "command_received"]
    assert cmds == ["pause", "set_workers", "status", "resume", "set_workers", "stop"]  # resume asks status first
    assert {"batch_paused", "batch_resumed"} <= {e["type"] for e in evs}
    interrupted = [e for e in evs if e["type"] == "video_failed" and e["error_class"] == "interrupted"]
    assert interrupted and all(not e["final"] and not e["counted"] for e in interrupted)
    sock = ws / "batches" / batch / "control.sock"
    wait_for(lambda: not sock.exists(), timeout=10, what="socket removal")
    listed = json.loads(vidops(ws, cfg, "list", "--json", check=0).stdout)
    assert listed[0]["batch_id"] == batch and listed[0]["state"] == "stopped"
    out = vidops(ws, cfg, "resume", batch, "--no-ui", env=env, check=0)
    assert "finished" in out.stdout
    done = [e["key"] for e in events(ws, batch) if e["type"] == "video_succeeded"]
    assert sorted(done) == [f"local__v{i}" for i in range(4)]


def test_retry_named_permanent_failure_after_fixing_input(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    lst = write_list(d, ["v0.avi", "late.avi"])
    vidops(ws, cfg, "run", str(lst), "--no-ui", check=1)
    batch = only_batch(ws)
    out = vidops(ws, cfg, "retry", batch, "--video", "local__nope", "--no-ui", check=2)
    assert "local__nope" in out.stderr
    (d / "v1.avi").rename(d / "late.avi")  # the operator fixes the input
    vidops(ws, cfg, "retry", batch, "--video", "local__late", "--no-ui", check=0)
    doc = json.loads(vidops(ws, cfg, "status", batch, "--json", check=0).stdout)
    assert doc["counts"]["failed"] == 0 and doc["counts"]["done"] == 2


def test_cuda_oom_halves_batch_size_and_unknown_errors_retry_once(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    lst = write_list(d, ["v0.avi", "v1.avi"])
    faults = json.dumps({"local__v0": {"raise": "cuda_oom", "attempts": [1, 2]},
                         "local__v1": {"raise": "unknown"}})
    vidops(ws, cfg, "run", str(lst), "--no-ui", "--workers", "1", env={"VIDOPS_FAULTS": faults}, check=1)
    evs = events(ws, only_batch(ws))
    scales = [e["batch_size_scale"] for e in evs if e["type"] == "video_started" and e["key"] == "local__v0"]
    assert scales == [1.0, 0.5, 0.25]
    assert any(e["type"] == "alert" and e["kind"] == "gpu_oom" for e in evs)
    assert any(e["type"] == "video_succeeded" and e["key"] == "local__v0" for e in evs)
    v1 = [e for e in evs if e["type"] == "video_failed" and e["key"] == "local__v1"]
    assert [e["final"] for e in v1] == [False, True] and v1[0]["error_class"] == "unknown"
    log = (ws / "batches" / only_batch(ws) / "logs" / "local__v1.log").read_text()
    assert "Traceback" in log and "injected fault" in log


def test_rss_limit_recycling_and_error_rate_alert(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    cfg.write_text(FAST + "[pool]\nmax_rss_mb = 1\nmax_videos_per_worker = 1\n[retry]\nmax_attempts = 2\n"
                   .replace("[retry]\nmax_attempts = 2\n", "") + "[alerts]\nmin_error_samples = 1\n")
    lst = write_list(d, ["v0.avi"])
    faults = json.dumps({"local__v0": {"sleep_s": 3}})
    vidops(ws, cfg, "run", str(lst), "--no-ui", "--workers", "1", env={"VIDOPS_FAULTS": faults}, check=1)
    evs = events(ws, only_batch(ws))
    fails = [e for e in evs if e["type"] == "video_failed"]
    assert fails and all(e["error_class"] == "oom" for e in fails) and fails[-1]["final"]
    assert any(e["type"] == "alert" and e["kind"] == "error_rate" for e in evs)
    # Recycling: a fresh batch with 3 videos and max_videos_per_worker = 1 uses 3 workers.
    cfg.write_text(FAST + "[pool]\nmax_videos_per_worker = 1\n")
    lst = write_list(d, ["v0.avi", "v1.avi", "v2.avi"])
    vidops(ws, cfg, "run", str(lst), "--no-ui", "--workers", "1", "--batch-id", "recycle", check=0)
    evs = events(ws, "recycle")
    assert len({e["pid"] for e in evs if e["type"] == "worker_started"}) == 3
    assert sum(1 for e in evs if e["type"] == "worker_exited" and e["reason"] == "recycled") >= 2


def test_ctrl_c_stops_gracefully_with_130_then_resume_finishes(setup: tuple[Path, Path, Path]) -> None:
    d, ws, cfg = setup
    cfg.write_text(FAST + "[pool]\ngrace_s = 0.3\n[alerts]\nmin_free_disk_gb = 1000000.0\n")
    lst = write_list(d, ["v0.avi", "v1.avi", "v2.avi"])
    faults = json.dumps({f"local__v{i}": {"sleep_s": 30, "attempts": [1]} for i in range(3)})
    cmd = [sys.executable, "-m", "console.cli", "--workspace", str(ws), "--config", str(cfg), "run", str(lst),
           "--no-ui", "--workers", "1", "--batch-id", "ctrlc"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "VIDOPS_FAULTS": faults})
    wait_for(lambda: (ws / "batches" / "ctrlc" / "state.jsonl").exists()
             and any(e["type"] == "video_started" for e in events(ws, "ctrlc")), what="a video to start")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    evs = events(ws, "ctrlc")
    assert evs[-1]["type"] == "batch_stopped"
    assert any(e["type"] == "video_failed" and e["error_class"] == "interrupted" and not e["final"] for e in evs)
    assert any(e["type"] == "alert" and e["kind"] == "low_disk" for e in evs)  # threshold above any real disk
    assert "low disk" in out  # alerts are printed in headless mode
    vidops(ws, cfg, "resume", "ctrlc", "--no-ui", check=0)  # attempt 2+ has no injected delay
    done = {e["key"] for e in events(ws, "ctrlc") if e["type"] == "video_succeeded"}
    assert done == {"local__v0", "local__v1", "local__v2"}
