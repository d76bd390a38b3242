"""Invalid list rows in the Videos table: the video id, as for every other row (it showed the key).

An invalid row (missing file, duplicate id) never gets a ``video_queued`` event, the event that
names a video's ids, so the table showed ``local__missing`` where a valid row shows ``missing``.
"""

from __future__ import annotations

from pathlib import Path

from console.state import BatchFollower
from console.widgets.videos_table import cells
from engine import api
from engine.batch import load_videos
from engine.config import load_settings
from engine.supervisor import Supervisor


def test_invalid_rows_show_their_video_id(tmp_path: Path) -> None:
    (tmp_path / "ok.mp4").write_bytes(b"not a video")  # valid in the list; fails in its worker
    lst = tmp_path / "list.csv"
    lst.write_text("video_path,video_id\nok.mp4,good\nmissing.mp4,gone\nok.mp4,good\nmissing.mp4,bad/id\n")
    paths = api.prepare_batch(tmp_path / "ws", load_settings(None), str(lst), "b1")
    keys = {r["row"]: r["key"] for r in load_videos(paths)}
    assert keys == {2: "local__good", 3: "local__gone", 4: "local__good~row4", 5: "row5"}
    Supervisor(paths, install_signals=False).run()
    rows = BatchFollower(tmp_path / "ws", "b1").poll().rows
    shown = {k: str(cells(r, 0.0)[1]) for k, r in rows.items()}
    assert rows["local__good"].status == "failed"  # ran: its id came with video_queued
    assert shown["local__good"] == "good"
    assert shown["local__gone"] == "gone" and rows["local__gone"].platform_id == "local"  # said local__gone
    assert shown["local__good~row4"] == "good~row4"  # the duplicate: its id as the batch renamed it
    assert shown["row5"] == "row5"  # an unsafe id never became a key: the key names the row
