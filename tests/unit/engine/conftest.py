"""Fixtures shared by the engine unit tests."""

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
