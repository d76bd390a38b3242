"""Generated snapshot histories in the dataset builder's generic format."""

from __future__ import annotations

import datetime as dt
from pathlib import Path


def write_snapshots(path: Path, videos: int = 40, days: int = 25) -> Path:
    """Daily snapshots of ``videos`` videos on videos/2 channels (7/14/21-day targets exist).

    Video i is first seen on day i, so a time split has rows on both sides of each cut.
    """
    t0 = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    rows = ["video_id,snapshot_time,views,likes,comments,channel_id,channel_title,published_at,title"]
    for i in range(videos):
        base = 1000 * (1 + i % 7)
        published = t0 + dt.timedelta(days=i, hours=-(1 + i % 5))
        for d in range(days):
            t = t0 + dt.timedelta(days=i + d)
            v = int(base * (1 + d * (0.3 + 0.05 * (i % 4))))
            rows.append(f"vid{i:03d},{t:%Y-%m-%dT%H:%M:%SZ},{v},{v // 20},{v // 200},ch{i // 2},chan {i // 2},"
                        f"{published:%Y-%m-%dT%H:%M:%SZ},title {i}")
    path.write_text("\n".join(rows) + "\n")
    return path
