"""List files: every invalid-row kind becomes a failed row; unusable files raise ListFileError."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.batch_input import ListFileError, read_list


@pytest.fixture
def media(tmp_path: Path) -> Path:
    (tmp_path / "a.mp4").write_bytes(b"x")
    (tmp_path / "b.mp4").write_bytes(b"y")
    (tmp_path / "adir").mkdir()
    return tmp_path


def csv(media: Path, body: str) -> Path:
    p = media / "list.csv"
    p.write_text(body)
    return p


def test_defaults_and_metadata(media: Path) -> None:
    rows = read_list(csv(media, "video_path,title,channel_id\na.mp4,Hello,UC1\n"))
    (r,) = rows
    assert r.platform_id == "local" and r.video_id == "a" and r.key == "local__a"
    assert r.video_path == str(media / "a.mp4") and r.channel_id == "UC1"
    assert r.metadata == {"title": "Hello"} and r.invalid is None


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("missing.mp4,,", "file not found"),
        ("adir,,", "not a regular file"),
        ("a.mp4,../x,", "contains a path separator"),
        ("a.mp4,..,", "contains '..'"),
        ("a.mp4,a\x01b,", "control characters"),
        ("a.mp4," + "x" * 200 + ",", "longer than"),
        ("a.mp4,ok,yt/../x", "platform_id"),
        (",v1,", "video_path is empty"),
    ],
)
def test_invalid_rows(media: Path, line: str, fragment: str) -> None:
    rows = read_list(csv(media, "video_path,video_id,platform_id\nb.mp4,good,\n" + line + "\n"))
    assert rows[0].invalid is None
    assert rows[1].invalid is not None and fragment in rows[1].invalid
    assert "row 3" in rows[1].invalid  # the CSV line of the bad row
    assert "/" not in rows[1].key and ".." not in rows[1].key


def test_duplicates(media: Path) -> None:
    rows = read_list(csv(media, "video_path,video_id\na.mp4,same\nb.mp4,same\n"))
    assert rows[0].invalid is None
    assert "duplicate" in (rows[1].invalid or "") and "row 2" in (rows[1].invalid or "")
    assert rows[0].key != rows[1].key


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read any file")
def test_unreadable(media: Path) -> None:
    (media / "a.mp4").chmod(0)
    rows = read_list(csv(media, "video_path\na.mp4\n"))
    assert "not readable" in (rows[0].invalid or "")


def test_json_and_jsonl(media: Path) -> None:
    (media / "l.json").write_text(json.dumps([{"video_path": "a.mp4", "platform_id": "yt", "video_id": "A1"}]))
    (r,) = read_list(media / "l.json")
    assert r.key == "yt__A1"
    (media / "l.jsonl").write_text('{"video_path": "a.mp4"}\n\n{"video_path": "b.mp4", "extra": 3}\n')
    rows = read_list(media / "l.jsonl")
    assert [r.video_id for r in rows] == ["a", "b"] and rows[1].metadata == {"extra": 3}


@pytest.mark.parametrize(
    ("name", "body", "fragment"),
    [
        ("l.txt", "video_path\na.mp4\n", "unknown list format"),
        ("l.csv", "", "empty"),
        ("l.csv", "path,id\na.mp4,1\n", "no 'video_path' column"),
        ("l.json", "{not json", "not valid JSON"),
        ("l.json", '{"video_path": "a.mp4"}', "expected a JSON array"),
        ("l.jsonl", '{"video_path": "a.mp4"}\n{oops\n', "line 2"),
        ("l.jsonl", '{"path": "a.mp4"}\n', "no record has a 'video_path'"),
        ("l.csv", 'video_path,video_id\na.mp4,1\n"b.mp4,2\na.mp4,3\na.mp4,4\n', "lines 3-5: a quote opened on line 3"),
        ("l.csv", "video_path;video_id\na.mp4;1\n", "semicolon-separated"),
    ],
)
def test_unusable_list_files(media: Path, name: str, body: str, fragment: str) -> None:
    p = media / name
    p.write_text(body)
    with pytest.raises(ListFileError) as info:
        read_list(p)
    assert fragment in str(info.value) and str(p) in str(info.value)


def test_missing_list_file(tmp_path: Path) -> None:
    with pytest.raises(ListFileError, match="not found"):
        read_list(tmp_path / "nope.csv")


def test_non_latin_file_names_get_distinct_ids(media: Path) -> None:
    for name in ("日本.mp4", "中国.mp4", "Ελλάδα 1.mp4"):
        (media / name).write_bytes(b"x")
    rows = read_list(csv(media, "video_path\n日本.mp4\n中国.mp4\nΕλλάδα 1.mp4\na.mp4\n"))
    assert [r.invalid for r in rows] == [None] * 4
    assert [r.video_id for r in rows] == ["日本", "中国", "Ελλάδα_1", "a"]  # ASCII names as before


def test_long_file_name_gets_a_short_distinct_id(media: Path) -> None:
    for c in "xy":
        (media / (c * 200 + ".mp4")).write_bytes(b"x")
    rows = read_list(csv(media, f"video_path\n{'x' * 200}.mp4\n{'y' * 200}.mp4\n"))
    assert [r.invalid for r in rows] == [None, None]
    assert all(len(r.video_id) <= 128 for r in rows) and rows[0].video_id != rows[1].video_id


def test_same_file_name_in_two_folders_says_what_to_do(media: Path) -> None:
    (media / "day2").mkdir()
    (media / "day2" / "a.mp4").write_bytes(b"z")
    rows = read_list(csv(media, "video_path\na.mp4\nday2/a.mp4\n"))
    assert rows[0].invalid is None
    assert "duplicate" in (rows[1].invalid or "") and "add a video_id column" in (rows[1].invalid or "")


def test_csv_row_with_more_values_than_columns_is_invalid(media: Path) -> None:
    rows = read_list(csv(media, "video_path,video_id\na.mp4,x,oops\nb.mp4,y,\n"))
    assert "3 values but the header has 2" in (rows[0].invalid or "") and "row 2" in (rows[0].invalid or "")
    assert rows[1].invalid is None  # an empty trailing value (spreadsheet export) is fine


def test_json_zero_and_blank_ids(media: Path) -> None:
    (media / "l.json").write_text(json.dumps([{"video_path": "a.mp4", "video_id": 0, "platform_id": " "}]))
    (r,) = read_list(media / "l.json")
    assert (r.platform_id, r.video_id, r.invalid) == ("local", "0", None)


def test_quoted_multi_line_metadata_is_fine(media: Path) -> None:
    rows = read_list(csv(media, 'video_path,title\na.mp4,"two\nlines"\nb.mp4,x\n'))
    assert [r.invalid for r in rows] == [None, None] and rows[0].metadata == {"title": "two\nlines"}
    assert [r.row for r in rows] == [3, 4]


def test_bom_in_json_lists_and_nul_in_a_path(media: Path) -> None:
    (media / "l.json").write_bytes(b"\xef\xbb\xbf" + json.dumps([{"video_path": "a.mp4"}]).encode())
    (media / "l.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps({"video_path": "a.mp4"}).encode() + b"\n")
    assert read_list(media / "l.json")[0].invalid is None and read_list(media / "l.jsonl")[0].invalid is None
    rows = read_list(csv(media, "video_path\na.mp4\x00\nb.mp4\n"))
    assert "row 2: video_path contains a NUL byte" in (rows[0].invalid or "") and rows[1].invalid is None


def test_a_folder_given_as_the_list(media: Path) -> None:
    with pytest.raises(ListFileError, match="is a folder"):
        read_list(media / "adir")


def test_home_relative_paths(media: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(media))
    (r,) = read_list(csv(media / "adir", "video_path\n~/a.mp4\n"))
    assert r.invalid is None and r.video_path == str(media / "a.mp4")


def test_a_stale_row_does_not_shadow_the_corrected_one(media: Path) -> None:
    rows = read_list(csv(media, "video_path,video_id\nold/a.mp4,same\na.mp4,same\n"))
    assert "file not found" in (rows[0].invalid or "") and rows[1].invalid is None
    assert rows[1].video_id == "same" and rows[0].key != rows[1].key
