"""RunDir.locked: one writer per run directory across processes, never a stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.errors import TransientError, classify
from engine.store import LOCK_NAME, RunDir

TASK = {"platform_id": "p", "video_id": "v", "video_path": "/x.mp4", "key": "p__v"}


def test_a_second_writer_waits_then_gives_a_transient_reason_naming_the_holder(tmp_path: Path) -> None:
    beats: list[int] = []
    with RunDir(tmp_path / "run").locked(1) as waited:
        assert waited is False
        t0 = time.monotonic()
        with pytest.raises(TransientError) as info, RunDir(tmp_path / "run").locked(0.5, lambda: beats.append(1)):
            pass
        assert 0.4 < time.monotonic() - t0 < 5
    assert f"pid {os.getpid()}" in str(info.value) and "another process" in str(info.value)
    c = classify(info.value)
    assert c.error_class == "timeout" and c.transient
    assert beats  # the waiter kept reporting progress, so its supervisor sees no stall
    with RunDir(tmp_path / "run").locked(0) as waited:  # released on exit
        assert waited is False


def test_the_waiter_takes_over_when_the_holder_finishes_and_sees_its_complete_run(tmp_path: Path) -> None:
    holder = RunDir(tmp_path / "run")
    entered = threading.Event()

    def write() -> None:
        with holder.locked(1):
            entered.set()
            holder.start(TASK, "r1", "h")
            time.sleep(0.5)
            holder.write_component("probe", version="1", arrays=None, summary={})
            holder.complete()

    t = threading.Thread(target=write)
    t.start()
    assert entered.wait(10)
    waiter = RunDir(tmp_path / "run")
    assert not waiter.is_complete("r1")
    with waiter.locked(30) as waited:
        assert waited is True and waiter.is_complete("r1") and not waiter.is_complete("other")
        assert waiter.manifest()["components"]["probe"]["status"] == "done"
    t.join(10)


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    run = tmp_path / "run"
    code = ("import sys, time; from engine.store import RunDir\n"
            f"with RunDir(__import__('pathlib').Path({str(run)!r})).locked(1):\n"
            "    print('held', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[3])
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        got: list[bool] = []
        waiter = threading.Thread(target=lambda: got.append(RunDir(run).locked(30).__enter__()))
        waiter.start()
        time.sleep(0.5)
        assert not got  # still held
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGKILL)
        waiter.join(20)
        assert got == [True] and time.monotonic() - t0 < 10
    finally:
        proc.kill()
        proc.wait()
    assert (run / LOCK_NAME).exists()  # the file stays; only the flock mattered
