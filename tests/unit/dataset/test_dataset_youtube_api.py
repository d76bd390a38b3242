"""The YouTube Data API client against a loopback HTTP server (127.0.0.1 only)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.dataset.youtube_api import YouTubeApiError, YouTubeClient, enrich_index


class FakeApi(BaseHTTPRequestHandler):
    log: list[tuple[str, dict[str, list[str]]]] = []
    failures: list[tuple[int, str]] = []  # (status, reason) served before real answers

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        FakeApi.log.append((url.path, q))
        if FakeApi.failures:
            code, reason = FakeApi.failures.pop(0)
            self._send(code, {"error": {"code": code, "errors": [{"reason": reason}]}})
            return
        if q.get("key") != ["k"]:
            self._send(400, {"error": {"errors": [{"reason": "keyInvalid"}]}})
            return
        ids = q["id"][0].split(",")
        if url.path.endswith("/videos"):
            items = [{"id": v, "snippet": {"channelId": f"UC{v[-1]}", "channelTitle": f"T{v[-1]}"}}
                     for v in ids if not v.startswith("gone")]
        else:
            items = [{"id": c, "snippet": {"title": f"T{c}", "publishedAt": "2010-01-01T00:00:00Z"},
                      "statistics": {"subscriberCount": "1000", "videoCount": "42"}} for c in ids]
        self._send(200, {"items": items})

    def _send(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    FakeApi.log, FakeApi.failures = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/youtube/v3"
    server.shutdown()
    server.server_close()


def _client(base: str, sleeps: list[float], retries: int = 3) -> YouTubeClient:
    return YouTubeClient(base, "k", max_retries=retries, backoff_s=0.5, sleep=sleeps.append)


def test_batches_cache_and_backoff(api: str, tmp_path: Path) -> None:
    sleeps: list[float] = []
    client = _client(api, sleeps)
    FakeApi.failures = [(503, "backendError"), (403, "quotaExceeded")]
    videos = [f"vid{i:03d}{i % 3}" for i in range(120)] + ["gone1"]
    cache = tmp_path / "channels.json"
    index = enrich_index(client, videos, cache)
    video_calls = [q for p, q in FakeApi.log if p.endswith("/videos")]
    assert [len(q["id"][0].split(",")) for q in video_calls[2:]] == [50, 50, 21]
    assert sleeps == [0.5, 1.0]
    assert index.videos["vid0030"] == "UC0" and index.videos["vid0011"] == "UC1" and index.videos["gone1"] == ""
    assert index.channels["UC1"]["subscriber_count"] == "1000"
    n = len(FakeApi.log)
    again = enrich_index(client, videos, cache)  # everything cached: no request
    assert len(FakeApi.log) == n and again.to_json() == index.to_json()


def test_gives_up_and_rejects(api: str, tmp_path: Path) -> None:
    sleeps: list[float] = []
    FakeApi.failures = [(500, "backendError")] * 3
    with pytest.raises(YouTubeApiError, match="gave up after 2 retries"):
        _client(api, sleeps, retries=2).video_channels(["a"])
    assert sleeps == [0.5, 1.0]
    with pytest.raises(YouTubeApiError, match="keyInvalid"):
        YouTubeClient(api, "wrong", sleep=sleeps.append).video_channels(["a"])
    from engine.config import load_settings

    with pytest.raises(YouTubeApiError, match="YOUTUBE_API_KEY"):
        YouTubeClient.from_settings(load_settings().dataset, env={})


def test_cached_index_feeds_the_build(api: str, tmp_path: Path, build, snap) -> None:
    cache = tmp_path / "channels.json"
    enrich_index(_client(api, []), ["aaaaaaaa1", "bbbbbbbb2"], cache)
    res = build([snap("aaaaaaaa1", 0, 10, channel_title="x"), snap("bbbbbbbb2", 0, 5, channel_title="x")],
                channels=str(cache))
    t = res.table.set_index("video_id")
    assert t.loc["aaaaaaaa1", "channel_key"] == "UC1" and t.loc["bbbbbbbb2", "channel_id"] == "UC2"
    assert t.loc["aaaaaaaa1", "ch_subscriber_count"] == 1000 and t.loc["aaaaaaaa1", "ch_total_videos"] == 42
    assert t.loc["aaaaaaaa1", "ch_age_days_at_snapshot1"] > 5000
    assert res.meta["inputs"]["channels"]["sha256"]
    csv = tmp_path / "index.csv"
    pd.DataFrame([{"channel_id": "UCz", "channel_title": "X", "subscriber_count": 7}]).to_csv(csv, index=False)
    by_title = build([snap("c", 0, 1, channel_title="x")], channels=str(csv))
    assert by_title.table.iloc[0]["channel_key"] == "UCz" and by_title.table.iloc[0]["ch_subscriber_count"] == 7
