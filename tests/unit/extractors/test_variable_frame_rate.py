"""Time-based outputs of a variable-frame-rate video come from frame times, not from frame
indices divided by the average rate (phone and screen recordings are VFR)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.extractors_support.run import extract
from tests.extractors_support.synth import make_vfr_video

MODULES = {"extract.modules": ["cut_detection", "video_pacing", "story_structure"]}


@pytest.fixture(scope="module")
def vfr_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("vfr")
    # 20 frames each: 25 fps, 10 fps, 50 fps, 20 fps -> shots of 0.8, 2.0, 0.4, 1.0 s
    bounds = make_vfr_video(root / "vfr.mp4", [(20, 0.04), (20, 0.1), (20, 0.02), (20, 0.05)])
    manifest, run = extract(root / "vfr.mp4", root / "rs", MODULES)
    return bounds, manifest, run


def test_shot_lengths_follow_frame_times(vfr_run) -> None:
    bounds, manifest, run = vfr_run
    assert manifest["status"] == "complete"
    assert list(run.arrays("cut_detection")["hard_cuts"]) == [20, 40, 60]
    lengths = run.arrays("video_pacing")["shot_lengths_s"]
    # the last shot ends at the last frame's time + 1 / average fps (its own duration is unknown)
    assert lengths == pytest.approx(np.diff(bounds), abs=0.01)
    assert manifest["components"]["video_pacing"]["summary"]["shot_length_max_s"] == pytest.approx(2.0, abs=0.01)


def test_cut_density_counts_cuts_in_the_second_they_happen(vfr_run) -> None:
    _, _, run = vfr_run
    motion = run.arrays("video_pacing")["motion_per_second"].astype(np.float64)
    energy = run.arrays("story_structure")["energy"].astype(np.float64)
    assert len(motion) == len(energy) == 5  # 4.2 s
    # energy = mean(motion / its 95th percentile, cut density over a centred 3 s window)
    cuts = 2 * energy - np.clip(motion / np.percentile(motion, 95), 0, 1)
    # cuts at 0.8, 2.8 and 3.2 s -> per-second counts [1, 0, 1, 1, 0]
    assert cuts == pytest.approx(np.array([1, 2, 2, 2, 1]) / 3, abs=1e-5)


def test_whole_seconds_have_no_extra_bin(tmp_path: Path) -> None:
    from tests.extractors_support.synth import make_video

    make_video(tmp_path / "three.mp4", shots=[40, 35])  # 75 frames at 25 fps: exactly 3 s
    _, run = extract(tmp_path / "three.mp4", tmp_path / "rs", MODULES)
    assert len(run.arrays("video_pacing")["motion_per_second"]) == 3
    assert len(run.arrays("story_structure")["energy"]) == 3
