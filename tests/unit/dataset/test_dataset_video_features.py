"""Result-store aggregation: run selection, naming, and inference_row == the builder's row."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.dataset.features import inference_row
from engine.dataset.video_features import FeatureSettings, aggregate_run, select_runs
from engine.store import ResultStore


def make_run(root: Path, video: str, run_id: str, chash: str, created: float, complete: bool = True,
             scale: float = 1.0) -> Path:
    rd = ResultStore(root).run_dir("youtube", video, run_id)
    rd.start({"platform_id": "youtube", "video_id": video, "video_path": f"/v/{video}.mp4"}, run_id, chash)
    rd.write_component("probe", version="1", arrays={"first_frame_times": np.array([0.0, 0.04])},
                       summary={"duration_s": 12.5 * scale, "fps": 25.0, "video_codec": "h264",
                                "audio": {"sample_rate": 48000, "layout": "stereo"}, "streams": [1]})
    rd.write_component("shot_quality", version="2", summary={"shots": 4 * scale, "ok": True, "analysis_fps": 5.0},
                       arrays={"sharpness": np.array([1.0, 2.0, np.nan, 3.0, 4.0]) * scale,
                               "clip_embedding": np.array([0.1, 0.2, 0.3]),
                               "per_frame_rgb": np.ones((4, 3)), "big": np.zeros((3, 3, 3)),
                               "label": np.array(["a", "b"])})
    rd.write_component("clap", version="1", summary={"n": 1}, arrays=None, status="failed", reason="boom")
    rd.update(created_at=created)
    if complete:
        rd.complete()
    return rd.path


def test_aggregate_names_and_values(tmp_path: Path) -> None:
    path = make_run(tmp_path, "v1", "r1", "h" * 16, 1.0)
    agg = aggregate_run(path, FeatureSettings())
    v = agg.values
    assert v["probe__duration_s"] == 12.5 and v["probe__audio_sample_rate"] == 48000
    assert "probe__video_codec" not in v and "clap__n" not in v
    assert v["shot_quality__ok"] == 1.0 and v["shot_quality__shots"] == 4
    assert v["shot_quality__sharpness__n"] == 4 and v["shot_quality__sharpness__mean"] == pytest.approx(2.5)
    assert v["shot_quality__sharpness__p50"] == pytest.approx(2.5)
    assert v["shot_quality__sharpness__p10"] == pytest.approx(np.percentile([1, 2, 3, 4], 10))
    assert [v[f"shot_quality__clip_embedding__{i:03d}"] for i in range(3)] == [0.1, 0.2, 0.3]
    assert v["shot_quality__per_frame_rgb__mean_002"] == 1.0
    assert v["probe__first_frame_times__n"] == 2
    assert any("big" in s for s in agg.skipped) and any("label" in s for s in agg.skipped)
    small = aggregate_run(path, FeatureSettings(embedding_max_dim=2))
    assert "shot_quality__clip_embedding__000" not in small.values


def test_select_newest_complete_run_for_config(tmp_path: Path) -> None:
    make_run(tmp_path, "v1", "old", "a" * 16, 1.0)
    new = make_run(tmp_path, "v1", "new", "a" * 16, 2.0)
    make_run(tmp_path, "v1", "newest_partial", "a" * 16, 3.0, complete=False)
    make_run(tmp_path, "v1", "other_cfg", "b" * 16, 4.0)
    make_run(tmp_path, "v2", "x", "b" * 16, 5.0)
    sel = select_runs(tmp_path, "a" * 16)
    assert sel.runs == {("youtube", "v1"): new} and sel.config_hash == "a" * 16
    anyc = select_runs(tmp_path, "any")
    assert anyc.config_hash == "b" * 16 and set(anyc.runs) == {("youtube", "v1"), ("youtube", "v2")}
    assert select_runs(tmp_path / "missing", "any").runs == {}


def test_inference_row_matches_builder(tmp_path: Path, build, snap) -> None:
    store = tmp_path / "store"
    run = make_run(store, "v1", "r1", "c" * 16, 1.0)
    make_run(store, "v2", "r1", "c" * 16, 1.0, scale=2.0)
    rows = [snap("v0", -48, 10, 1, 0, channel_title="C"), snap("v0", -24, 20, 2, 0, channel_title="C"),
            snap("v1", 0, 100, 10, 5, channel_title="C", title="T", tags="a|b", category_id="10",
                 trending_rank_pct=0.3),
            snap("v1", 168, 150, channel_title="C"), snap("v2", 0, 7, channel_title="D")]
    res = build(rows, result_store=str(store), overrides={"extractor_config_hash": "c" * 16})
    meta = json.loads((Path(res.out) / "dataset_meta.json").read_text())
    assert meta["extractor_config_hash"] == "c" * 16
    assert meta["row_counts"]["videos_with_video_features"] == 2
    feats = meta["feature_columns"]
    assert "shot_quality__sharpness__mean" in feats and feats.index("fps") < feats.index("shot_quality__ok")
    built = res.table.set_index("video_id").loc["v1", feats].to_dict()
    assert built["duration_sec"] == 12.5 and built["fps"] == 5.0
    assert built["ch_hist_videos"] == 1 and built["ch_hist_s1_views_median"] == 10
    assert built["ch_hist_growth_1d_median"] == np.log1p(10) - np.log1p(10) and built["s1_trending_rank_pct"] == 0.3
    history = {"snapshots": [{"video_id": "v0", "snapshot_time": "2023-12-30T12:00:00Z", "views": 10, "likes": 1},
                             {"video_id": "v0", "snapshot_time": "2023-12-31T12:00:00Z", "views": 20, "likes": 2},
                             {"video_id": "v9", "snapshot_time": "2024-01-05T12:00:00Z", "views": 1e9, "likes": 1}]}
    s1 = {"video_id": "v1", "snapshot_time": "2024-01-01T12:00:00Z", "views": 100, "likes": 10, "comments": 5,
          "published_at": "2023-12-31T12:00:00Z", "title": "T", "tags": "a|b", "category_id": "10",
          "trending_rank_pct": 0.3}
    inf = inference_row(s1, str(run), meta, history)
    assert list(inf) == feats
    for k in feats:
        a, b = built[k], inf[k]
        assert (isinstance(a, float) and math.isnan(a) and pd.isna(b)) or a == b, k
    bare = inference_row(s1, None, meta)
    assert pd.isna(bare["shot_quality__ok"]) and bare["category"] == "10"


def test_runs_only_under_another_config_are_reported(tmp_path: Path, build, snap) -> None:
    # The report said only "videos with result-store features: 0" when every run was made under
    # another extract config: the build now names how many videos, which hashes and what to do.
    store = tmp_path / "store"
    make_run(store, "v1", "r1", "b" * 16, 1.0)
    make_run(store, "v2", "r1", "b" * 16, 1.0)
    make_run(store, "v2", "r2", "d" * 16, 2.0)
    make_run(store, "v3", "r1", "a" * 16, 1.0)  # under the current config: used
    make_run(store, "v9", "r1", "b" * 16, 1.0)  # not in the snapshots: not counted
    rows = [snap(v, 0, 100) for v in ("v0", "v1", "v2", "v3")]
    res = build(rows, result_store=str(store), overrides={"extractor_config_hash": "a" * 16})
    meta = res.meta
    assert meta["row_counts"]["videos_with_video_features"] == 1
    assert meta["row_counts"]["videos_with_runs_only_under_other_config_hashes"] == 2
    assert meta["other_extractor_config_hashes"] == {"b" * 16: 2, "d" * 16: 1}
    (warning,) = meta["warnings"]
    assert warning.startswith(f"2 of 4 videos have result-store runs only under other extract config hashes than "
                              f"the current one ({'a' * 16}): {'b' * 16} (2 videos), {'d' * 16} (1 video)")
    assert "point --config at the config those runs used" in warning and "Re-run their extraction" in warning
    import jsonschema

    schema = Path(__file__).resolve().parents[3] / "schemas" / "dataset_meta.schema.json"
    jsonschema.validate(json.loads((Path(res.out) / "dataset_meta.json").read_text()), json.loads(schema.read_text()))
    report = (Path(res.out) / "report.md").read_text()
    assert "## Warnings" in report and f"- {warning}" in report
    assert "(videos with result-store features: 1; with runs only under other config hashes: 2, see Warnings)" in report
    # every listed video with a run under the current config: no warning
    clean = build([snap("v3", 0, 100)], result_store=str(store), overrides={"extractor_config_hash": "a" * 16})
    assert clean.meta["warnings"] == [] and "## Warnings" not in (Path(clean.out) / "report.md").read_text()
