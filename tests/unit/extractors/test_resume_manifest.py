"""A run resumed after a crash records the same ``video`` and ``extract`` facts as one that never crashed."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from tests.extractors_support.run import extract
from tests.extractors_support.synth import make_video

MODULES = {"extract.modules": ["cut_detection", "shot_quality", "similarity_metrics", "text_scoring", "uniqueness"]}


def _facts(manifest: dict[str, Any]) -> dict[str, Any]:
    ext = {k: v for k, v in manifest["extract"].items() if k != "decode_wall_s"}  # wall clock
    return {"video": manifest["video"], "extract": ext}


@pytest.mark.parametrize("lost", [["uniqueness"], ["text_scoring", "uniqueness"]],
                         ids=["nothing-left-to-decode", "part-left-to-decode"])
def test_a_resumed_run_keeps_the_decode_facts_of_its_first_attempt(tmp_path: Path, lost: list[str]) -> None:
    # An .mkv whose sound outlasts its picture: the container's duration and frame estimate (6 s,
    # ~150 frames) are not the video's (3 s, 75 decoded), so the facts only a decode gives matter.
    video = tmp_path / "short_picture.mkv"
    make_video(video, shots=[40, 35], audio=True, audio_seconds=6.0)
    first, run = extract(video, tmp_path / "store", MODULES)
    full = copy.deepcopy(first)  # the writer's manifest: edited below
    assert full["video"]["frame_count"] == 75 and full["extract"]["video_duration_s"] == pytest.approx(3.0)
    # the worker was killed after the components before `lost` were written
    m = copy.deepcopy(first)
    for name in lost:
        del m["components"][name]
    run.update(components=m["components"], status="partial")
    resumed, _ = extract(video, tmp_path / "store", MODULES)
    assert resumed["status"] == "complete" and set(resumed["components"]) == set(full["components"])
    # were: video.frame_count 151 (the container's estimate) and extract {"sampling": {}} (or only
    # the re-sampled modules), without frames_decoded, video_duration_s, streams_end_s
    assert _facts(resumed) == _facts(full)
