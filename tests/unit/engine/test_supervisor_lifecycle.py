"""Supervisor lifecycle edges that need no worker process: every row here fails before dispatch."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import api
from engine.batch import BatchPaths
from engine.config import load_settings
from engine.state import replay
from engine.supervisor import Supervisor


@pytest.fixture
def finished_batch(tmp_path: Path) -> BatchPaths:
    """A finished batch whose only video failed at validation (missing file): no worker starts."""
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nmissing.mp4\n")
    paths = api.prepare_batch(tmp_path / "ws", load_settings(None), str(lst), "b1")
    assert Supervisor(paths, install_signals=False).run() == 1
    assert replay(paths.state).state == "finished"
    return paths


def test_retry_of_unknown_key_writes_nothing(finished_batch: BatchPaths) -> None:
    before = finished_batch.state.read_bytes()
    with pytest.raises(KeyError, match="local__nope"):
        Supervisor(finished_batch, retry_keys=["local__nope"], install_signals=False).run()
    assert finished_batch.state.read_bytes() == before  # still "finished", not "interrupted"
    assert api.batch_status(finished_batch.root.parent.parent, "b1")["state"] == "finished"


def test_workspace_that_cannot_be_written_is_a_workspace_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nmissing.mp4\n")
    with pytest.raises(api.WorkspaceError, match="afile"):
        api.prepare_batch(tmp_path / "afile" / "ws", load_settings(None), str(lst))


def test_batch_that_cannot_be_locked_is_a_workspace_error(finished_batch: BatchPaths) -> None:
    finished_batch.lock.unlink()
    finished_batch.lock.mkdir()  # open() fails as on a read-only mount, without needing one
    with pytest.raises(api.WorkspaceError, match="supervisor.lock"):
        Supervisor(finished_batch, install_signals=False).run()


def test_detached_start_failure_is_reported_despite_a_stale_control_addr(finished_batch: BatchPaths) -> None:
    finished_batch.control_addr.write_text("/nonexistent/control.sock\n")  # left by a kill -9'd supervisor
    finished_batch.config.write_text("not = [valid toml\n")
    with pytest.raises(RuntimeError, match="exited with code"):
        api.start_detached(finished_batch, wait_s=30)
