"""Inputs whose video frames end before the container's duration: truncated (a permanent
error naming the file) or whole with a longer soundtrack (a valid run)."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from engine.errors import Undecodable
from engine.extractors.validate import validate_run
from tests.extractors_support.run import extract
from tests.extractors_support.synth import make_video

MODULES = {"extract.modules": ["loudness", "cut_detection", "video_pacing"]}


def test_mkv_whose_audio_outlasts_the_video_is_a_valid_run(tmp_path: Path) -> None:
    # Matroska gives the video stream no duration of its own: the probe reports the
    # container's (the audio's 6 s) while only 2 s of frames exist
    video = tmp_path / "long_audio.mkv"
    make_video(video, shots=[25, 25], audio=True, audio_seconds=6.0)
    manifest, run = extract(video, tmp_path / "rs", MODULES)
    assert manifest["status"] == "complete"
    assert manifest["video"]["frame_count"] == 50 and manifest["video"]["duration_s"] > 5.5
    assert manifest["extract"]["video_duration_s"] == pytest.approx(2.0, abs=0.05)
    assert manifest["extract"]["streams_end_s"] > 5.5
    assert validate_run(run.path) == []


def test_truncated_mkv_is_undecodable_and_names_the_file(tmp_path: Path) -> None:
    whole = tmp_path / "whole.mkv"
    make_video(whole, shots=[40, 40, 40], audio=True)
    cut = tmp_path / "half.mkv"
    data = whole.read_bytes()
    cut.write_bytes(data[: len(data) // 2])  # an interrupted download: opens, decodes to the cut
    with pytest.raises(Undecodable) as err:
        extract(cut, tmp_path / "rs", MODULES)
    assert str(cut) in str(err.value) and "truncated" in str(err.value)


def test_whole_mkv_is_not_scanned(tmp_path: Path) -> None:
    video = tmp_path / "whole.mkv"
    make_video(video, shots=[40, 40], audio=True)
    manifest, run = extract(video, tmp_path / "rs", MODULES)
    assert "video_duration_s" not in manifest["extract"] and "streams_end_s" not in manifest["extract"]
    assert validate_run(run.path) == []


def test_video_that_stops_decoding_mid_file_is_undecodable(tmp_path: Path) -> None:
    # one video packet with an impossible NAL length: FFmpeg gives up there while the audio
    # and the video packets go on to the end (not a shorter video stream: a damaged one)
    whole = tmp_path / "whole.mp4"
    make_video(whole, shots=[40, 40, 40], audio=True)
    with av.open(str(whole)) as container:
        packets = [p for p in container.demux(video=0) if p.pos is not None and p.pos >= 0]
    target = packets[len(packets) // 3]
    data = bytearray(whole.read_bytes())
    data[target.pos:target.pos + 4] = b"\xff\xff\xff\xff"
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    with pytest.raises(Undecodable) as err:
        extract(damaged, tmp_path / "rs", MODULES)
    assert str(damaged) in str(err.value) and "stops decoding" in str(err.value)
