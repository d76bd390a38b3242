"""Run the real pipeline on one file into a RunDir (what the CLI and the batch workers do)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.config import apply_overrides, load_settings
from engine.pipeline import process_video, settings_hash
from engine.store import RunDir


def extract(video: Path, root: Path, overrides: dict[str, Any] | None = None, video_id: str = "v",
            platform_id: str = "p") -> tuple[dict[str, Any], RunDir]:
    settings = load_settings(None)
    if overrides:
        settings = apply_overrides(settings, overrides)
    task = {"video_path": str(video), "platform_id": platform_id, "video_id": video_id}
    run = RunDir(root / platform_id / video_id / "run")
    run.start(task, "run", settings_hash(settings))
    manifest = process_video(task, settings, run, lambda stage, frac: None, result_store_root=str(root))
    return manifest, run
