"""RunDir: atomic writes while a video runs, durability at the commit point, resume re-checks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine.store import RunDir, load_manifest

TASK = {"platform_id": "p", "video_id": "v", "video_path": "/x.mp4", "key": "p/v"}


def _write_two(run: RunDir) -> None:
    run.write_component("a", version="1", arrays={"x": np.arange(5)}, summary={"n": 5})
    run.write_component("b", version="1", arrays={"y": np.ones((2, 3), np.float32)}, summary={})
    run.write_component("c", version="1", arrays=None, summary={}, status="skipped", reason="no audio")


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths fsynced from now on (the real fsync still runs)."""
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    return synced


def test_fsync_only_at_the_commit_point(tmp_path: Path, fsynced: list[str]) -> None:
    run = RunDir(tmp_path / "run")
    run.start(TASK, "r1", "h")
    _write_two(run)
    run.update(video={"frame_count": 3})
    assert fsynced == []  # nothing durable yet, but every file is already whole and readable
    assert load_manifest(run.path)["components"]["b"]["arrays"]["y"]["shape"] == [2, 3]
    assert run.arrays("a")["x"].tolist() == [0, 1, 2, 3, 4]

    run.complete()
    names = {Path(p).name for p in fsynced}
    # both NPZs, then the complete manifest (its temp file) and the directory
    assert {"a.npz", "b.npz", "run"} <= names
    assert any(n.startswith(".manifest.json.") for n in names)
    assert fsynced.index(str(run.path / "a.npz")) < fsynced.index(str(run.path))
    assert fsynced[-1] == str(run.path)  # the directory last: it makes every rename durable
    assert json.loads((run.path / "manifest.json").read_text())["status"] == "complete"


def test_writer_keeps_manifest_in_memory_and_a_fresh_instance_reads_the_file(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.start(TASK, "r1", "h")
    _write_two(run)
    fresh = RunDir(tmp_path / "run")
    assert fresh.manifest() == run.manifest()
    assert set(fresh.manifest()["components"]) == {"a", "b", "c"}


@pytest.mark.parametrize("damage", ["missing", "empty", "truncated", "other_arrays"])
def test_resume_drops_components_whose_npz_does_not_read_back(tmp_path: Path, damage: str) -> None:
    run = RunDir(tmp_path / "run")
    run.start(TASK, "r1", "h")
    _write_two(run)
    npz = run.path / "b.npz"
    if damage == "missing":
        npz.unlink()
    elif damage == "empty":
        npz.write_bytes(b"")
    elif damage == "truncated":
        npz.write_bytes(npz.read_bytes()[:-40])
    else:
        np.savez(npz, z=np.zeros(1))

    again = RunDir(tmp_path / "run")
    manifest = again.start(TASK, "r1", "h")
    assert set(manifest["components"]) == {"a", "c"}  # b is recomputed; a and the skip are kept
    assert set(load_manifest(run.path)["components"]) == {"a", "c"}


def test_resume_of_an_intact_run_rewrites_nothing(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.start(TASK, "r1", "h")
    _write_two(run)
    before = (run.path / "manifest.json").stat().st_mtime_ns
    manifest = RunDir(tmp_path / "run").start(TASK, "r1", "h")
    assert set(manifest["components"]) == {"a", "b", "c"}
    assert (run.path / "manifest.json").stat().st_mtime_ns == before


def test_complete_run_is_not_rechecked(tmp_path: Path) -> None:
    run = RunDir(tmp_path / "run")
    run.start(TASK, "r1", "h")
    _write_two(run)
    run.complete()
    (run.path / "a.npz").write_bytes(b"")  # damage after completion is the validator's business
    manifest = RunDir(tmp_path / "run").start(TASK, "r1", "h")
    assert manifest["status"] == "complete" and "a" in manifest["components"]


def test_complete_also_syncs_what_an_interrupted_attempt_wrote(tmp_path: Path, fsynced: list[str]) -> None:
    first = RunDir(tmp_path / "run")
    first.start(TASK, "r1", "h")
    first.write_component("a", version="1", arrays={"x": np.arange(3)}, summary={})
    # the worker dies here (nothing fsynced); the retry opens the run afresh and finishes it
    assert fsynced == []
    retry = RunDir(tmp_path / "run")
    retry.start(TASK, "r1", "h")
    retry.write_component("b", version="1", arrays={"y": np.arange(2)}, summary={})
    retry.complete()
    assert {str(retry.path / "a.npz"), str(retry.path / "b.npz")} <= set(fsynced)
