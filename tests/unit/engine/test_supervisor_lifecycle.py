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
