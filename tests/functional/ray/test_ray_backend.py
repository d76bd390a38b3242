"""The Ray backend end to end: real CLI drivers against one local Ray, compared with the local pool."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("ray")

from support.batches import FAST, events, only_batch, vidops, wait_for  # noqa: E402

VOLATILE = {"created_at", "completed_at"}  # and every *wall_s timing


def write_list(d: Path, names: list[str]) -> Path:
    p = d / "list.csv"
    p.write_text("video_path\n" + "".join(f"{n}\n" for n in names))
    return p


def ray_cfg(d: Path, address: str, extra: str = "", base: str = FAST, name: str = "ray.toml") -> Path:
    cfg = d / name
    cfg.write_text(base + f'[pool]\nbackend = "ray"\nray_address = "{address}"\n' + extra)
    return cfg


def _strip(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE and not k.endswith("wall_s")}
    return obj


def store_snapshot(root: Path) -> dict[str, Any]:
    """Every run directory: its manifest (timestamps and wall times removed) and NPZ arrays."""
    snap: dict[str, Any] = {}
    for manifest in sorted(root.glob("*/*/*/manifest.json")):
        run = manifest.parent
        arrays = {}
        for npz in sorted(run.glob("*.npz")):
            with np.load(npz, allow_pickle=False) as data:
                arrays[npz.name] = {k: data[k] for k in data.files}
        snap[str(run.relative_to(root))] = (_strip(json.loads(manifest.read_text())), arrays)
    return snap


def assert_same_store(a: Path, b: Path) -> None:
    assert_same_snapshots(store_snapshot(a), store_snapshot(b))


def assert_same_snapshots(sa: dict[str, Any], sb: dict[str, Any]) -> None:
    assert sa and sorted(sa) == sorted(sb)
    for run, (ma, arrs_a) in sa.items():
        mb, arrs_b = sb[run]
        assert ma == mb, run
        assert sorted(arrs_a) == sorted(arrs_b), run
        for name, arrays in arrs_a.items():
            assert sorted(arrays) == sorted(arrs_b[name]), (run, name)
            for k, v in arrays.items():
                np.testing.assert_array_equal(v, arrs_b[name][k], err_msg=f"{run}/{name}:{k}")


@pytest.fixture
def videos(tmp_path: Path, make_video: Callable[..., Path]) -> Path:
    for i in range(4):
        make_video(f"v{i}.avi", frames=20 + i)
    return tmp_path


def test_ray_batch_equals_local_batch(videos: Path, ray_address: str) -> None:
    d = videos
    lst = write_list(d, [f"v{i}.avi" for i in range(4)])
    (d / "local.toml").write_text(FAST)
    vidops(d / "ws_local", d / "local.toml", "run", str(lst), "--no-ui", "--workers", "2", check=0)
    out = vidops(d / "ws_ray", ray_cfg(d, ray_address), "run", str(lst), "--no-ui", "--workers", "2", check=0)
    assert "finished" in out.stdout
    assert_same_store(d / "ws_local" / "result_store", d / "ws_ray" / "result_store")
    ws = d / "ws_ray"
    evs = events(ws, only_batch(ws))
    assert evs[0]["backend"] == "ray"
    assert sorted(e["key"] for e in evs if e["type"] == "video_succeeded") == [f"local__v{i}" for i in range(4)]
    assert {e["component"] for e in evs if e["type"] == "video_component_done"} == {"probe"}
    assert all(e["node"] == "127.0.0.1" for e in evs if e["type"] == "worker_started")
    log = (ws / "batches" / only_batch(ws) / "logs" / "local__v0.log").read_text()
    assert "attempt 1 of local__v0" in log and "done in" in log  # the worker's log came back
    status = json.loads(vidops(ws, d / "local.toml", "status", "--json", check=0).stdout)
    assert status["state"] == "finished" and status["counts"]["done"] == 4
    # Idempotency is the supervisor's: the same list again skips every video without a Ray task.
    vidops(ws, ray_cfg(d, ray_address), "run", str(lst), "--no-ui", "--batch-id", "again", check=0)
    again = events(ws, "again")
    assert {e["key"] for e in again if e["type"] == "video_skipped"} == {f"local__v{i}" for i in range(4)}
    assert not [e for e in again if e["type"] == "video_started"]


def test_ray_default_modules_equal_local(tmp_path: Path, make_video: Callable[..., Path], ray_address: str) -> None:
    for i in range(2):
        make_video(f"d{i}.avi", frames=60 + 5 * i, size=(320, 240), cuts=(30,))
    lst = write_list(tmp_path, ["d0.avi", "d1.avi"])
    base = "[retry]\nmax_attempts = 1\n"
    (tmp_path / "local.toml").write_text(base)
    # One slot each, so order-dependent modules (uniqueness) see the same store history.
    vidops(tmp_path / "ws_local", tmp_path / "local.toml", "run", str(lst), "--no-ui", "--workers", "1", check=0)
    cfg = ray_cfg(tmp_path, ray_address, base=base)
    vidops(tmp_path / "ws_ray", cfg, "run", str(lst), "--no-ui", "--workers", "1", check=0, timeout=300)
    assert_same_store(tmp_path / "ws_local" / "result_store", tmp_path / "ws_ray" / "result_store")


def test_ray_resumes_a_partial_run_at_the_first_missing_component(
        tmp_path: Path, make_video: Callable[..., Path], ray_address: str) -> None:
    make_video("d0.avi", frames=60, size=(320, 240), cuts=(30,))
    lst = write_list(tmp_path, ["d0.avi"])
    ws = tmp_path / "ws"
    (tmp_path / "local.toml").write_text("")
    vidops(ws, tmp_path / "local.toml", "run", str(lst), "--no-ui", "--batch-id", "full", check=0)
    store = ws / "result_store"
    expected = store_snapshot(store)
    (run,) = store.glob("local/d0/*")
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["components"]["text_scoring"]["status"] == "done"
    # Make it a run interrupted before text_scoring was written.
    del manifest["components"]["text_scoring"]
    manifest["status"] = "partial"
    (run / "manifest.json").write_text(json.dumps(manifest))
    (run / "text_scoring.npz").unlink()
    vidops(ws, ray_cfg(tmp_path, ray_address, base=""), "run", str(lst), "--no-ui", "--batch-id", "resume", check=0)
    evs = events(ws, "resume")
    assert [e["component"] for e in evs if e["type"] == "video_component_done"] == ["text_scoring"]
    # Finished components' arrays were shipped in, so nothing upstream was silently recomputed
    # (the event above); the resumed manifest keeps the earlier decode's sampling and adds the
    # re-sampled module's, identical to the uninterrupted run's (docs/extractors.md).
    (clean_manifest, _), = expected.values()
    sampling = json.loads((run / "manifest.json").read_text())["extract"]["sampling"]
    assert sampling == clean_manifest["extract"]["sampling"]
    # Otherwise the store is as if the run had never been interrupted ('extract' also holds the
    # decode's wall time and counts of the last pass, for either backend).
    no_extract = {k: ({f: x for f, x in m.items() if f != "extract"}, arrays)
                  for k, (m, arrays) in expected.items()}
    got = {k: ({f: x for f, x in m.items() if f != "extract"}, arrays)
           for k, (m, arrays) in store_snapshot(store).items()}
    assert_same_snapshots(no_extract, got)


def test_sigkill_ray_worker_mid_video_is_retried(videos: Path, ray_address: str) -> None:
    d, ws = videos, videos / "ws"
    lst = write_list(d, ["v0.avi", "v1.avi"])
    faults = json.dumps({"local__v0": {"sleep_s": 30, "attempts": [1]}, "local__v1": {"exit": 7, "attempts": [1]}})
    batch = vidops(ws, ray_cfg(d, ray_address), "run", str(lst), "--detach", "--workers", "1",
                   env={"VIDOPS_FAULTS": faults}, check=0).stdout.strip()
    started = wait_for(lambda: [e for e in events(ws, batch) if e["type"] == "worker_started"], what="v0's task pid")
    pid = started[0]["pid"]
    wait_for(lambda: any(e["type"] == "video_progress" and e["key"] == "local__v0" for e in events(ws, batch)),
             what="v0 progress")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: any(e["type"] == "batch_finished" for e in events(ws, batch)), what="batch end")
    evs = events(ws, batch)
    fails = {e["key"]: e for e in evs if e["type"] == "video_failed"}
    assert fails["local__v0"]["error_class"] == "worker_lost" and fails["local__v0"]["final"] is False
    assert f"pid {pid}" in fails["local__v0"]["message"]
    assert fails["local__v1"]["error_class"] == "worker_lost"  # the task's process exited (code 7)
    assert any(e["type"] == "worker_exited" and e["pid"] == pid for e in evs)
    assert sorted(e["key"] for e in evs if e["type"] == "video_succeeded") == ["local__v0", "local__v1"]
    for key in ("local__v0", "local__v1"):
        assert [e["attempt"] for e in evs if e["type"] == "video_started" and e["key"] == key] == [1, 2]


def test_timeout_cancels_the_ray_task(videos: Path, ray_address: str) -> None:
    d, ws = videos, videos / "ws"
    lst = write_list(d, ["v0.avi"])
    cfg = ray_cfg(d, ray_address, "video_timeout_s = 1.0\n")
    faults = json.dumps({"local__v0": {"sleep_s": 20, "attempts": [1, 2]}})
    vidops(ws, cfg, "run", str(lst), "--no-ui", "--workers", "1", env={"VIDOPS_FAULTS": faults}, check=0)
    evs = events(ws, only_batch(ws))
    fails = [e for e in evs if e["type"] == "video_failed"]
    assert [e["error_class"] for e in fails] == ["timeout", "timeout"] and all(e["transient"] for e in fails)
    assert [e["attempt"] for e in evs if e["type"] == "video_started"] == [1, 2, 3]
    assert [e["key"] for e in evs if e["type"] == "video_succeeded"] == ["local__v0"]


def test_cuda_oom_backs_off_through_the_task(videos: Path, ray_address: str) -> None:
    d, ws = videos, videos / "ws"
    lst = write_list(d, ["v0.avi"])
    faults = json.dumps({"local__v0": {"raise": "cuda_oom", "attempts": [1, 2]}})
    vidops(ws, ray_cfg(d, ray_address), "run", str(lst), "--no-ui", env={"VIDOPS_FAULTS": faults}, check=0)
    evs = events(ws, only_batch(ws))
    assert [e["error_class"] for e in evs if e["type"] == "video_failed"] == ["cuda_oom", "cuda_oom"]
    assert [e["batch_size_scale"] for e in evs if e["type"] == "video_started"] == [1.0, 0.5, 0.25]
    log = (ws / "batches" / only_batch(ws) / "logs" / "local__v0.log").read_text()
    assert "batch_size_scale=0.25" in log  # the scale reached the task
    assert [e["key"] for e in evs if e["type"] == "video_succeeded"] == ["local__v0"]


def test_sigkill_driver_then_resume_processes_nothing_twice(videos: Path, ray_address: str) -> None:
    d, ws = videos, videos / "ws"
    lst = write_list(d, [f"v{i}.avi" for i in range(4)])
    cfg = ray_cfg(d, ray_address)
    faults = json.dumps({f"local__v{i}": {"sleep_s": 0.6} for i in range(4)})
    env = {"VIDOPS_FAULTS": faults}
    batch = vidops(ws, cfg, "run", str(lst), "--detach", "--workers", "1", env=env, check=0).stdout.strip()
    wait_for(lambda: any(e["type"] == "video_succeeded" for e in events(ws, batch)), what="first success")
    sup_pid = int((ws / "batches" / batch / "supervisor.lock").read_text())
    os.kill(sup_pid, signal.SIGKILL)
    wait_for(lambda: json.loads(vidops(ws, cfg, "status", batch, "--json").stdout)["state"] == "interrupted",
             timeout=20, what="interrupted state")
    before = events(ws, batch)
    done_before = {e["key"] for e in before if e["type"] == "video_succeeded"}
    assert 1 <= len(done_before) < 4
    vidops(ws, cfg, "resume", batch, "--no-ui", env=env, check=0)
    after = events(ws, batch)[len(before):]
    assert after[0]["type"] == "batch_started" and after[0]["resumed"] is True
    assert not {e["key"] for e in after if e["type"] == "video_started"} & done_before
    succeeded = [e["key"] for e in events(ws, batch) if e["type"] == "video_succeeded"]
    assert sorted(succeeded) == [f"local__v{i}" for i in range(4)]  # each exactly once


def test_stop_then_resume(videos: Path, ray_address: str) -> None:
    d, ws = videos, videos / "ws"
    lst = write_list(d, ["v0.avi", "v1.avi"])
    cfg = ray_cfg(d, ray_address, "grace_s = 0.2\n")
    env = {"VIDOPS_FAULTS": json.dumps({"local__v0": {"sleep_s": 20, "attempts": [1]}})}
    batch = vidops(ws, cfg, "run", str(lst), "--detach", "--workers", "1", env=env, check=0).stdout.strip()
    wait_for(lambda: any(e["type"] == "video_progress" for e in events(ws, batch)), what="v0 running")
    assert json.loads(vidops(ws, cfg, "status", batch, "--json", check=0).stdout)["state"] == "running"
    vidops(ws, cfg, "stop", batch, check=0)
    wait_for(lambda: any(e["type"] == "batch_stopped" for e in events(ws, batch)), what="stop")
    evs = events(ws, batch)
    interrupted = [e for e in evs if e["type"] == "video_failed" and e["error_class"] == "interrupted"]
    assert interrupted and all(not e["final"] and not e["counted"] for e in interrupted)
    out = vidops(ws, cfg, "resume", batch, "--no-ui", env=env, check=0)
    assert "finished" in out.stdout
    done = [e["key"] for e in events(ws, batch) if e["type"] == "video_succeeded"]
    assert sorted(done) == ["local__v0", "local__v1"]


def test_sigterm_still_stops_the_driver_gracefully(videos: Path, ray_address: str) -> None:
    """ray.init replaces SIGTERM's handler; the backend gives it back to the supervisor."""
    d, ws = videos, videos / "ws"
    lst = write_list(d, ["v0.avi"])
    cfg = ray_cfg(d, ray_address, "grace_s = 0.2\n")
    env = {"VIDOPS_FAULTS": json.dumps({"local__v0": {"sleep_s": 20}})}
    batch = vidops(ws, cfg, "run", str(lst), "--detach", env=env, check=0).stdout.strip()
    wait_for(lambda: any(e["type"] == "video_progress" for e in events(ws, batch)), what="v0 running")
    os.kill(int((ws / "batches" / batch / "supervisor.lock").read_text()), signal.SIGTERM)
    wait_for(lambda: any(e["type"] == "batch_stopped" for e in events(ws, batch)), timeout=20, what="stop")
    assert [e["error_class"] for e in events(ws, batch) if e["type"] == "video_failed"] == ["interrupted"]


def test_inputs_shipped_through_the_object_store(videos: Path, ray_address: str) -> None:
    d = videos
    lst = write_list(d, ["v0.avi", "v1.avi"])
    (d / "local.toml").write_text(FAST)
    vidops(d / "ws_local", d / "local.toml", "run", str(lst), "--no-ui", check=0)
    ws = d / "ws_ray"
    vidops(ws, ray_cfg(d, ray_address), "run", str(lst), "--no-ui", "--workers", "2",
           env={"VIDOPS_RAY_SHIP": "always"}, check=0)
    assert_same_store(d / "ws_local" / "result_store", ws / "result_store")
    log = (ws / "batches" / only_batch(ws) / "logs" / "local__v1.log").read_text()
    assert "shipped through the object store" in log


def test_input_invisible_on_the_node_is_shipped_or_fails_clearly(videos: Path, ray_address: str) -> None:
    d, ws = videos, videos / "ws"
    lst = write_list(d, ["v0.avi", "v1.avi"])
    hide = json.dumps({k: {"hide_input": True} for k in ("local__v0", "local__v1")})
    vidops(ws, ray_cfg(d, ray_address), "run", str(lst), "--no-ui", "--workers", "2",
           env={"VIDOPS_FAULTS": hide}, check=0)
    evs = events(ws, only_batch(ws))
    # The same attempt is resubmitted with the bytes: no failure, no second attempt in the log.
    assert not [e for e in evs if e["type"] == "video_failed"]
    assert [e["attempt"] for e in evs if e["type"] == "video_started"] == [1, 1]
    log = (ws / "batches" / only_batch(ws) / "logs" / "local__v0.log").read_text()
    assert "shipped through the object store" in log
    # Over the size limit (or with shipping off) it is a clear, permanent failure.
    ws2 = d / "ws2"
    out = vidops(ws2, ray_cfg(d, ray_address), "run", str(lst), "--no-ui", "--json",
                 env={"VIDOPS_FAULTS": hide, "VIDOPS_RAY_SHIP_MAX_MB": "0.001"}, check=1)
    fails = [e for e in map(json.loads, out.stdout.splitlines()) if e["type"] == "video_failed"]
    assert {e["key"] for e in fails} == {"local__v0", "local__v1"}
    assert all(e["error_class"] == "missing_file" and e["final"] for e in fails)
    assert "not visible on Ray node 127.0.0.1" in fails[0]["message"] and "VIDOPS_RAY_SHIP" in fails[0]["message"]
