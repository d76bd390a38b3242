"""Bad input: messages with file and row numbers, counts of everything skipped; readers; trending."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from engine.dataset.adapters import DatasetInputError, SkipLog, load_snapshots
from engine.dataset.adapters.base import read_table
from engine.dataset.builder import BuildInputs, build_dataset


def test_bad_rows_are_counted_with_row_numbers(build, snap) -> None:
    rows = [snap("a", 0, 100), snap("a", 24, "lots"), snap("a", 48, -5), snap("a", 72, 300, likes=""),
            {**snap("a", 96, 400), "snapshot_time": "yesterday"}, snap("", 0, 1), snap("#NAME?", 0, 1),
            {**snap("b", 0, 7), "published_at": "not a date", "dislikes": "x"}]
    res = build(rows)
    assert res.meta["skipped_input_rows"] == {
        "bad_dislikes_set_missing": 1, "bad_published_at_set_missing": 1, "bad_snapshot_time": 1,
        "invalid_video_id": 2, "negative_views": 1, "non_numeric_likes": 1, "non_numeric_views": 1}
    report = (Path(res.out) / "report.md").read_text()
    assert "snaps1.csv:3: views 'lots'" in report and "snaps1.csv:4: views '-5'" in report
    assert "snaps1.csv:6: time 'yesterday'" in report
    assert sorted(res.table["video_id"]) == ["a", "b"]
    assert res.meta["row_counts"]["snapshot_rows_valid"] == 2
    assert res.meta["row_counts"]["snapshot_rows_read"] == 8


def test_missing_columns_and_unknown_format(tmp_path: Path, settings) -> None:
    p = tmp_path / "s.csv"
    pd.DataFrame([{"video_id": "a", "views": 1}]).to_csv(p, index=False)
    with pytest.raises(DatasetInputError, match=r"s\.csv: missing required column\(s\) snapshot_time, likes, comments"):
        load_snapshots(str(p), "generic", settings.dataset, SkipLog())
    with pytest.raises(DatasetInputError, match="unknown snapshot format 'nope'.*generic, trending"):
        load_snapshots(str(p), "nope", settings.dataset, SkipLog())
    with pytest.raises(DatasetInputError, match="unknown file type"):
        read_table(tmp_path / "s.xlsx")
    with pytest.raises(DatasetInputError, match="file not found"):
        read_table(tmp_path / "missing.csv")


def test_readers_agree(tmp_path: Path, settings, snap) -> None:
    rows = [snap("a", 0, 100), snap("a", 168, 150)]
    df = pd.DataFrame(rows).astype(str)
    df.to_csv(tmp_path / "s.csv", index=False)
    with gzip.open(tmp_path / "s.csv.gz", "wt") as fh:
        df.to_csv(fh, index=False)
    df.to_parquet(tmp_path / "s.parquet")
    (tmp_path / "s.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    hashes = set()
    for name in ("s.csv", "s.csv.gz", "s.parquet", "s.jsonl"):
        res = build_dataset(settings, BuildInputs(str(tmp_path / name), str(tmp_path / f"o_{name}"), "generic",
                                                  required_horizons=[]))
        hashes.add(res.meta["content_hash"])
    assert len(hashes) == 1
    (tmp_path / "bad.jsonl").write_text('{"video_id": "a"}\nnot json\n')
    with pytest.raises(DatasetInputError, match=r"bad\.jsonl:2: not valid JSON"):
        read_table(tmp_path / "bad.jsonl")


TRENDING_HEADER = "video_id,trending_date,channel_title,category_id,publish_time,views,likes,dislikes,comment_count,comments_disabled,ratings_disabled\n"


def test_trending_adapter(tmp_path: Path, settings) -> None:
    lines = [
        "abcdefghijk,17.14.11,Chan A,22,2017-11-13T17:13:01.000Z,100,10,1,5,False,False",
        "abcdefghijk,17.21.11,Chan A,22,2017-11-13T17:13:01.000Z,300,20,2,4,False,False",
        "#NAME?,17.14.11,Chan B,22,2017-11-13T17:13:01.000Z,1,1,1,1,FALSE,FALSE",
        "-bcdefghijk,17.30.11,Chan B,22,2017-11-13T17:13:01.000Z,5,1,,1,TRUE,FALSE",
    ]
    p = tmp_path / "t.csv"
    p.write_text(TRENDING_HEADER + "\n".join(lines) + "\n")
    skips = SkipLog()
    df = load_snapshots(str(p), "trending", settings.dataset, skips)
    assert skips.counts == {"invalid_video_id": 1} and skips.examples["invalid_video_id"] == [f"{p}:4: video_id '#NAME?'"]
    assert str(df["snapshot_time"].iloc[0]) == "2017-11-14 14:00:00+00:00"
    assert list(df["comments"]) == [5.0, 4.0, 1.0]
    res = build_dataset(settings, BuildInputs(str(p), str(tmp_path / "o"), "trending", required_horizons=[7]))
    row = res.table.iloc[0]
    assert row["video_id"] == "abcdefghijk" and row["target_comments_7d"] == 0.0
    assert row["video_age_hours_at_snapshot1"] == pytest.approx(20 + 46 / 60 + 59 / 3600)
    assert row["channel_key"].startswith("title:")
    assert res.meta["negative_deltas"]["comments_7d"] == 1


def test_truncated_gzip_and_non_utf8_name_the_problem(tmp_path: Path, snap) -> None:
    rows = [snap(f"v{i}", 0, 100 + i, title="t" * 200) for i in range(400)]
    df = pd.DataFrame(rows).astype(str)
    with gzip.open(tmp_path / "s.csv.gz", "wt") as fh:
        df.to_csv(fh, index=False)
    data = (tmp_path / "s.csv.gz").read_bytes()
    (tmp_path / "cut.csv.gz").write_bytes(data[: len(data) // 2])  # an interrupted copy
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DatasetInputError, match=r"empty\.csv: empty file \(not even a header line\)"):
        read_table(tmp_path / "empty.csv")
    with pytest.raises(DatasetInputError, match=r"cut\.csv\.gz: truncated or damaged compressed file"):
        read_table(tmp_path / "cut.csv.gz")
    text = df.to_csv(index=False).encode()
    at = text.index(b"v300")  # data row 301 = line 302 of the file
    (tmp_path / "latin.csv").write_bytes(text[:at] + b"\xe9" + text[at:])
    with pytest.raises(DatasetInputError, match=r"latin\.csv: line 302: not UTF-8 \(byte 0xe9 at column 1\)"):
        read_table(tmp_path / "latin.csv")


def test_no_usable_row_is_an_input_error_naming_the_reasons(build, snap) -> None:
    with pytest.raises(DatasetInputError, match=r"no usable snapshot row \(2 read; non_numeric_views 2, e\.g\. .*:2: "
                                                r"views 'lots'\)"):
        build([snap("a", 0, "lots"), snap("b", 0, "lots")])


def test_every_video_dropped_by_required_horizons_is_an_input_error(build, snap) -> None:
    with pytest.raises(DatasetInputError, match=r"none of the 2 videos .* required horizon \[14\].*"
                                                r"--required-horizons none"):
        build([snap("a", 0, 1), snap("b", 0, 1)], required=[14])


def test_rebuild_replaces_meta_last_and_drops_a_stale_csv(tmp_path: Path, settings, snap) -> None:
    p = tmp_path / "s.csv"
    pd.DataFrame([snap("a", 0, 100), snap("a", 168, 150)]).to_csv(p, index=False)
    out = tmp_path / "ds"
    build_dataset(settings, BuildInputs(str(p), str(out), "generic", csv=True, required_horizons=[]))
    assert (out / "dataset.csv").is_file()
    pd.DataFrame([snap("b", 0, 1)]).to_csv(p, index=False)
    written: list[str] = []

    def spy(event: dict) -> None:  # what is on disk when the write stage starts
        if event["type"] == "dataset_progress" and event["stage"] == "write" and event["rows_done"] == 0:
            written.extend(sorted(f.name for f in out.iterdir()))

    res = build_dataset(settings, BuildInputs(str(p), str(out), "generic", required_horizons=[]), spy)
    # the previous build's meta is gone before the new table is written (it marks a complete build)
    assert "dataset_meta.json" not in written
    assert not (out / "dataset.csv").exists()  # the old table would contradict the new meta
    assert list(res.table["video_id"]) == ["b"] and (out / "dataset_meta.json").is_file()
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetInputError, match="exists and is not a directory"):
        build_dataset(settings, BuildInputs(str(p), str(tmp_path / "file"), "generic", required_horizons=[]))
    mine = tmp_path / "project"  # a user's directory: its report.md must not be overwritten
    mine.mkdir()
    (mine / "report.md").write_text("my notes")
    (mine / "README").write_text("x")
    with pytest.raises(DatasetInputError, match=r"project holds files that are not a dataset build's \(README, report\.md\)"):
        build_dataset(settings, BuildInputs(str(p), str(mine), "generic", required_horizons=[]))
    assert (mine / "report.md").read_text() == "my notes"
    with pytest.raises(DatasetInputError, match="cannot create the directory"):
        build_dataset(settings, BuildInputs(str(p), str(tmp_path / "file" / "ds"), "generic", required_horizons=[]))


@pytest.mark.parametrize("name", ["report.md", "dataset.csv"])
def test_a_lone_report_or_csv_is_not_a_previous_build(tmp_path: Path, settings, snap, name: str) -> None:
    # a build writes dataset.parquet before report.md and dataset.csv: without it they are a user's own
    p = tmp_path / "s.csv"
    pd.DataFrame([snap("a", 0, 100), snap("a", 168, 150)]).to_csv(p, index=False)
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / name).write_text("my notes")
    with pytest.raises(DatasetInputError, match=rf"notes holds files that are not a dataset build's \({name}\)"):
        build_dataset(settings, BuildInputs(str(p), str(mine), "generic", csv=True, required_horizons=[]))
    assert (mine / name).read_text() == "my notes"
    interrupted = tmp_path / "ds"  # a build cut short after its table is rebuilt in place
    build_dataset(settings, BuildInputs(str(p), str(interrupted), "generic", csv=True, required_horizons=[]))
    (interrupted / "dataset_meta.json").unlink()
    build_dataset(settings, BuildInputs(str(p), str(interrupted), "generic", csv=True, required_horizons=[]))
    assert (interrupted / "dataset_meta.json").is_file()


def test_row_numbers_are_line_numbers_with_multiline_fields_and_blank_lines(tmp_path: Path, settings) -> None:
    p = tmp_path / "ml.csv"
    p.write_text('video_id,snapshot_time,views,likes,comments,title\n'
                 'a,2018-03-01T14:00:00Z,1,1,1,"a title\nover\nthree lines"\n'
                 '\n'
                 'b,2018-03-01T14:00:00Z,lots,1,1,x\n')  # line 6 of the file
    skips = SkipLog()
    load_snapshots(str(p), "generic", settings.dataset, skips)
    assert skips.examples["non_numeric_views"] == [f"{p}:6: views 'lots'"]


@pytest.mark.parametrize(("cache", "message"), [
    ({"channels": [1], "videos": {}}, '"channels" must map channel ids'),
    ({"channels": {"c1": "x"}}, '"channels" must map channel ids'),
    ({"videos": {"abc": 5}}, '"videos" must map video ids to channel ids'),
])
def test_channel_cache_of_another_shape_is_an_input_error(tmp_path: Path, cache: dict, message: str) -> None:
    from engine.dataset.channels import load_index

    p = tmp_path / "channels.json"
    p.write_text(json.dumps(cache))
    with pytest.raises(DatasetInputError, match=message):
        load_index(p)


def test_interrupted_build_ends_its_event_log_and_leaves_no_meta(tmp_path: Path, settings, snap) -> None:
    p = tmp_path / "s.csv"
    pd.DataFrame([snap("a", 0, 100), snap("a", 168, 150)]).to_csv(p, index=False)
    events: list[dict] = []

    def ctrl_c_while_writing(event: dict) -> None:
        events.append(event)
        if event["type"] == "dataset_progress" and event["stage"] == "write":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_dataset(settings, BuildInputs(str(p), str(tmp_path / "o"), "generic", required_horizons=[]),
                      ctrl_c_while_writing)
    assert events[-1] == {"type": "dataset_failed", "message": "interrupted"}
    assert not (tmp_path / "o" / "dataset_meta.json").exists()


def test_unreadable_channel_stats_are_counted_not_silently_nan(build, snap, tmp_path: Path) -> None:
    index = tmp_path / "channels.csv"
    index.write_text("channel_id,channel_title,subscriber_count,total_videos,created_at\n"
                     "c1,chan,1.2M,10,2010-01-01T00:00:00Z\n"
                     "c2,other,500,,last year\n")
    res = build([snap("a", 0, 100, channel_id="c1"), snap("b", 0, 5, channel_id="c2")], channels=str(index))
    skipped = res.meta["skipped_input_rows"]
    assert skipped["channel_bad_subscriber_count_set_missing"] == 1
    assert skipped["channel_bad_created_at_set_missing"] == 1 and "channel_bad_total_videos_set_missing" not in skipped
    report = (Path(res.out) / "report.md").read_text()
    assert f"{index}:2: subscriber_count '1.2M'" in report and f"{index}:3: created_at 'last year'" in report
    assert res.meta["row_counts"]["snapshot_rows_read"] == 2  # stats problems are not snapshot rows
