"""Session-scoped synthetic videos for the extractor tests (generated once, a few MB)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.extractors_support.synth import make_video


@pytest.fixture(scope="session")
def synth_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("synth") / "shots.mp4"
    truth = make_video(path, shots=[40, 30, 8, 45, 40], dissolve_into=4, audio=True)
    return path, truth


@pytest.fixture(scope="session")
def silent_video(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path_factory.mktemp("synth") / "silent.mp4"
    return path, make_video(path, shots=[30, 30], audio=False)
