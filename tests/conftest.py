"""Fixtures shared by every test: synthetic media, the optional ../shared folder, a workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


@pytest.fixture
def cuda() -> None:
    """Skips the test unless torch sees a CUDA device (use with ``@pytest.mark.gpu``)."""
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` next to the repository; tests that need it skip cleanly without it."""
    if not (SHARED / "media").is_dir():
        pytest.skip("../shared is not present")
    return SHARED


def write_video(path: Path, frames: int = 30, size: tuple[int, int] = (160, 120), fps: float = 25.0,
                cuts: tuple[int, ...] = ()) -> Path:
    """A small MJPG/AVI (or mp4v/MP4) video with moving content and hard cuts at ``cuts``."""
    fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG"))
    w, h = size
    writer = cv2.VideoWriter(str(path), fourcc, fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path}")
    rng = np.random.default_rng(len(path.name))
    shot = 0
    base = rng.integers(0, 255, size=3)
    for i in range(frames):
        if i in cuts:
            shot += 1
            base = rng.integers(0, 255, size=3)
        frame = np.empty((h, w, 3), np.uint8)
        frame[:] = base.astype(np.uint8)
        x = (i * 3) % max(w - 20, 1)
        cv2.rectangle(frame, (x, h // 3), (x + 20, h // 3 + 20), (255 - int(base[0]), 255, 0), -1)
        cv2.putText(frame, str(shot), (5, h - 10), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def make_video(tmp_path: Path) -> Callable[..., Path]:
    def factory(name: str = "clip.avi", **kwargs: object) -> Path:
        return write_video(tmp_path / name, **kwargs)  # type: ignore[arg-type]

    return factory
