"""Every default module copes with very short clips (shorter than the 3 s windows some use)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import load_settings
from engine.pipeline import process_video, settings_hash
from engine.store import ResultStore, fingerprint, make_run_id


@pytest.mark.parametrize("frames", [1, 12, 30, 60])
def test_default_modules_on_short_clips(tmp_path: Path, make_video: Callable[..., Path], frames: int) -> None:
    video = make_video(f"c{frames}.mp4", frames=frames, cuts=(frames // 2,) if frames > 4 else ())
    settings = load_settings(None)
    fp = fingerprint(video)
    run_id = make_run_id(settings_hash(settings), fp)
    store = ResultStore(tmp_path / "rs")
    run = store.run_dir("local", "c", run_id)
    task = {"platform_id": "local", "video_id": "c", "video_path": str(video), "fingerprint": fp}
    run.start(task, run_id, settings_hash(settings))
    manifest = process_video(task, settings, run, lambda _s, _f: None, result_store_root=str(store.root))
    assert manifest["status"] == "complete"
    statuses = {k: v["status"] for k, v in manifest["components"].items()}
    for module in ("cut_detection", "shot_quality", "video_pacing", "story_structure", "similarity_metrics",
                   "text_scoring"):
        assert statuses[module] == "done", (module, manifest["components"][module].get("reason"))
    energy = run.arrays("story_structure")["energy"]
    assert len(energy) == len(run.arrays("video_pacing")["motion_per_second"])
