"""Every module on synthetic media through the real pipeline, plus resume and no-audio."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine.extractors.registry import DEFAULT_MODULES
from engine.extractors.validate import validate_run
from tests.extractors_support.run import extract


def test_all_default_modules_on_synthetic_video(synth_video, tmp_path: Path) -> None:
    path, truth = synth_video
    manifest, run = extract(path, tmp_path, {"extract.keep_frames": True})
    comps = manifest["components"]
    assert manifest["status"] == "complete"
    assert {n: comps[n]["status"] for n in DEFAULT_MODULES} == {n: "done" for n in DEFAULT_MODULES}
    assert validate_run(run.path) == []
    video = manifest["video"]
    assert video["frame_count"] == truth["frames"] and video["source_fps"] == 25.0 and video["width"] == 192
    assert manifest["extract"]["sampling"]["shot_quality"]["analysis_fps"] == 2.0

    cut = run.arrays("cut_detection")
    assert cut["hard_cuts"].tolist() == truth["cuts"]  # includes the 8-frame shot
    (g,) = cut["gradual"].tolist()
    assert abs(g[0] - truth["gradual"][0]) <= 2 and abs(g[1] - truth["gradual"][1]) <= 2
    assert cut["shots"][0].tolist() == [0, truth["cuts"][0] - 1]
    assert cut["score"].shape == (truth["frames"],)

    q = run.arrays("shot_quality")
    n = len(q["sample_index"])
    assert n == len(q["sharpness"]) and 13 <= n <= 14  # 6.5 s sampled at 2 fps
    assert np.all(q["sharpness"] > 0) and np.all((q["exposure"] > 0.1) & (q["exposure"] < 0.9))
    assert q["shot_metrics"].shape[1] == 8

    pacing = comps["video_pacing"]["summary"]
    assert pacing["n_shots"] == 4 and abs(pacing["cuts_per_minute"] - 4 / (truth["frames"] / 25 / 60)) < 0.5
    story = comps["story_structure"]["summary"]
    assert story["energy_sources"] == ["cuts", "loudness", "motion"]
    assert 0 < story["peak_position"] <= 1

    sim = run.arrays("similarity_metrics")
    assert sim["shot_similarity"].shape[0] == sim["shot_embeddings"].shape[0] >= 3
    assert np.allclose(np.diag(sim["shot_similarity"]), 1.0, atol=1e-4)
    assert abs(float(np.linalg.norm(sim["video_embedding"])) - 1.0) < 1e-4

    text = run.arrays("text_scoring")
    starts = [0, *truth["cuts"], truth["gradual"][0]]
    shot_ids = np.searchsorted(starts, text["sample_index"], side="right") - 1
    odd = text["text_area"][shot_ids % 2 == 1]
    even = text["text_area"][shot_ids % 2 == 0]
    assert np.median(odd) > 0.02 > np.median(even)  # odd shots carry the text band
    assert comps["text_scoring"]["summary"]["ocr"] is None

    assert comps["uniqueness"]["summary"]["n_compared"] == 0
    assert comps["loudness"]["summary"]["integrated_lufs"] is not None

    meta = json.loads((run.path / "frames" / "metadata.json").read_text())
    assert meta["analysis_fps"] == 2.0 and len(meta["indices"]) == len(list((run.path / "frames").glob("*.jpg")))

    # a second video of the same platform is compared against the first
    manifest2, _ = extract(path, tmp_path, {"extract.modules": ["cut_detection", "similarity_metrics", "uniqueness"]},
                           video_id="w")
    u = manifest2["components"]["uniqueness"]["summary"]
    assert u["n_compared"] == 1 and u["uniqueness"] is not None and u["uniqueness"] < 1e-3  # same content
    index = np.load(tmp_path / "p" / ".index" / "uniqueness.npz", allow_pickle=False)
    assert sorted(index["video_ids"].tolist()) == ["v", "w"]


def test_video_without_audio_skips_audio_modules(silent_video, tmp_path: Path) -> None:
    path, _ = silent_video
    manifest, run = extract(path, tmp_path)
    comps = manifest["components"]
    for name in ("loudness", "tempo"):
        assert comps[name]["status"] == "skipped" and "audio" in comps[name]["reason"]
        assert not (run.path / f"{name}.npz").exists()
    assert comps["story_structure"]["summary"]["energy_sources"] == ["cuts", "motion"]
    assert comps["cut_detection"]["summary"]["hard_cuts"] == [30]
    assert validate_run(run.path) == []


def test_resume_skips_done_modules_and_reads_their_outputs(silent_video, tmp_path: Path) -> None:
    path, _ = silent_video
    mods = {"extract.modules": ["cut_detection", "video_pacing"]}
    manifest, run = extract(path, tmp_path, mods)
    first = manifest["components"]["cut_detection"]
    m = run.manifest()
    del m["components"]["video_pacing"]
    run.update(components=m["components"], status="partial")
    manifest2, _ = extract(path, tmp_path, mods)
    assert manifest2["components"]["cut_detection"] == first  # not rerun
    assert manifest2["components"]["video_pacing"]["status"] == "done"
    assert manifest2["components"]["video_pacing"]["summary"]["n_shots"] == 2


def test_extraction_runs_blas_on_one_thread_and_restores_it(synth_video, tmp_path: Path, monkeypatch) -> None:
    from threadpoolctl import threadpool_info

    import engine.extractors.audio.spectral as spectral

    def blas_threads() -> set[int]:
        return {int(i["num_threads"]) for i in threadpool_info() if i["user_api"] == "blas"}

    before = blas_threads()
    seen: list[set[int]] = []
    real = spectral.spectrogram

    def spy(*a, **k):  # runs in the audio thread, during the extraction
        seen.append(blas_threads())
        return real(*a, **k)

    monkeypatch.setattr(spectral, "spectrogram", spy)
    path, _ = synth_video
    manifest, _ = extract(path, tmp_path)
    assert manifest["components"]["tempo"]["status"] == "done"
    assert seen and all(s == {1} for s in seen)
    assert blas_threads() == before
