"""Ids become file names, and Linux limits a file name to 255 bytes: validation counts bytes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.batch import BatchPaths
from engine.batch_input import MAX_ID_BYTES, MAX_KEY_BYTES, NAME_MAX_BYTES, check_id, read_list
from engine.store import ResultStore


@pytest.fixture
def media(tmp_path: Path) -> Path:
    (tmp_path / "a.mp4").write_bytes(b"x")
    return tmp_path


def _list(media: Path, rows: list[tuple[str, str]]) -> Path:
    p = media / "list.csv"
    p.write_text("video_path,platform_id,video_id\n" + "".join(f"a.mp4,{pid},{vid}\n" for pid, vid in rows),
                 encoding="utf-8")
    return p


def test_a_short_non_ascii_id_over_the_byte_limit_is_refused_naming_it_and_its_size() -> None:
    vid = "視" * 100  # 100 characters, 300 bytes: passed the old 128-character check
    problem = check_id(vid, "video_id")
    assert problem is not None and "video_id '視視" in problem and "300 bytes" in problem
    assert check_id("視" * (MAX_ID_BYTES // 3), "video_id") is None
    assert check_id("v" * MAX_ID_BYTES, "video_id") is None  # ASCII: as long as before


def test_a_long_platform_plus_video_key_is_an_invalid_row(media: Path) -> None:
    rows = read_list(_list(media, [("p" * 128, "v" * 128), ("local", "é" * 60), ("local", "ok")]))
    assert rows[0].invalid is not None and "key 'ppp" in rows[0].invalid and "258 bytes" in rows[0].invalid
    assert rows[0].key == f"row{rows[0].row}"  # never used as a file name
    assert rows[1].invalid is None and rows[2].invalid is None


def test_every_name_built_from_accepted_ids_fits(media: Path, tmp_path: Path) -> None:
    pid = "p" * (MAX_KEY_BYTES - MAX_ID_BYTES - 2)
    vid = "é" * (MAX_ID_BYTES // 2)  # 128 bytes
    (row,) = read_list(_list(media, [(pid, vid)]))
    assert row.invalid is None and len(row.key.encode()) == MAX_KEY_BYTES
    for name in (pid, vid, f"prediction_{row.key}.json", BatchPaths(tmp_path / "b").video_log(row.key).name):
        assert len(os.fsencode(name)) <= NAME_MAX_BYTES
    run = ResultStore(tmp_path / "rs").run_dir(pid, vid, "r" * 16)
    run.path.mkdir(parents=True)  # ENAMETOOLONG before the byte limits
    log = BatchPaths(tmp_path / "b").video_log(row.key)
    log.parent.mkdir(parents=True)
    log.write_text("x")


def test_an_id_derived_from_a_long_non_ascii_file_name_fits_in_bytes(media: Path) -> None:
    names = ["視" * 80 + ".mp4", "視" * 79 + "x.mp4"]  # 240 bytes each: under the 255 limit
    for n in names:
        (media / n).write_bytes(b"x")
    p = media / "l.csv"
    p.write_text("video_path\n" + "".join(n + "\n" for n in names), encoding="utf-8")
    rows = read_list(p)
    assert [r.invalid for r in rows] == [None, None]
    assert all(len(r.video_id.encode()) <= MAX_ID_BYTES for r in rows) and rows[0].video_id != rows[1].video_id
