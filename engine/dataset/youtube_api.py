"""A small YouTube Data API v3 client for channel enrichment, cached into the local index.

``videos.list`` (part=snippet) gives each video's ``channelId``/``channelTitle``;
``channels.list`` (part=snippet,statistics) gives ``subscriberCount``, ``videoCount`` and
``publishedAt``. Ids go 50 per request (the API maximum). HTTP 429, 5xx, connection errors
and 403 with a quota/rate reason are retried with exponential back-off (``backoff_s``,
doubling, ``max_retries`` times); other errors raise :class:`YouTubeApiError` at once. The
key comes from the environment variable named by ``[dataset] youtube_api_key_env``; the base
URL is ``[dataset] youtube_api_base_url`` (tests use a loopback server).

:func:`enrich_index` asks only for what the cache (a :class:`ChannelIndex` JSON file) lacks and
rewrites the cache atomically after each step, so an interrupted run loses nothing fetched.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_json
from engine.dataset.channels import ChannelIndex, load_index
from engine.dataset.settings import DatasetSettings

BATCH = 50
RETRY_REASONS = frozenset({"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded"})


class YouTubeApiError(RuntimeError):
    """A request failed for good (bad key, bad request, retries exhausted)."""


@dataclass
class YouTubeClient:
    base_url: str
    api_key: str
    max_retries: int = 5
    backoff_s: float = 1.0
    timeout_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    requests_made: int = field(default=0, init=False)

    @classmethod
    def from_settings(cls, ds: DatasetSettings, env: Mapping[str, str] | None = None) -> YouTubeClient:
        key = (env if env is not None else os.environ).get(ds.youtube_api_key_env, "")
        if not key:
            raise YouTubeApiError(f"no API key: set the environment variable {ds.youtube_api_key_env}")
        return cls(ds.youtube_api_base_url, key, ds.youtube_api_max_retries, ds.youtube_api_backoff_s)

    def _get(self, endpoint: str, params: dict[str, str]) -> dict[str, Any]:
        query = urllib.parse.urlencode({**params, "key": self.api_key})
        url = f"{self.base_url.rstrip('/')}/{endpoint}?{query}"
        delay = self.backoff_s
        for attempt in range(self.max_retries + 1):
            self.requests_made += 1
            try:
                with urllib.request.urlopen(url, timeout=self.timeout_s) as resp:  # noqa: S310 - configured URL
                    data = json.loads(resp.read().decode("utf-8"))
                    return data if isinstance(data, dict) else {}
            except urllib.error.HTTPError as exc:
                body = exc.read().decode("utf-8", "replace")
                reasons = _reasons(body)
                retry = exc.code == 429 or exc.code >= 500 or (exc.code == 403 and reasons & RETRY_REASONS)
                message = f"{endpoint}: HTTP {exc.code} {sorted(reasons) or body[:200]}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                retry, message = True, f"{endpoint}: {exc}"
            if not retry:
                raise YouTubeApiError(message)
            if attempt == self.max_retries:
                raise YouTubeApiError(f"{message} (gave up after {self.max_retries} retries)")
            self.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    def video_channels(self, video_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """{video_id: {"channel_id", "channel_title"}} for the videos the API knows."""
        out: dict[str, dict[str, str]] = {}
        ids = list(dict.fromkeys(video_ids))
        for i in range(0, len(ids), BATCH):
            data = self._get("videos", {"part": "snippet", "id": ",".join(ids[i:i + BATCH]), "maxResults": "50"})
            for item in data.get("items", []):
                snippet = item.get("snippet", {})
                out[str(item.get("id"))] = {"channel_id": str(snippet.get("channelId", "")),
                                            "channel_title": str(snippet.get("channelTitle", ""))}
        return out

    def channel_stats(self, channel_ids: Iterable[str]) -> dict[str, dict[str, str]]:
        """{channel_id: {channel_title, subscriber_count, total_videos, created_at}}."""
        out: dict[str, dict[str, str]] = {}
        ids = list(dict.fromkeys(channel_ids))
        for i in range(0, len(ids), BATCH):
            data = self._get("channels", {"part": "snippet,statistics", "id": ",".join(ids[i:i + BATCH]),
                                          "maxResults": "50"})
            for item in data.get("items", []):
                stats, snippet = item.get("statistics", {}), item.get("snippet", {})
                out[str(item.get("id"))] = {
                    "channel_title": str(snippet.get("title", "")),
                    "subscriber_count": "" if stats.get("hiddenSubscriberCount") else str(stats.get("subscriberCount", "")),
                    "total_videos": str(stats.get("videoCount", "")),
                    "created_at": str(snippet.get("publishedAt", "")),
                }
        return out


def _reasons(body: str) -> set[str]:
    try:
        errors = json.loads(body).get("error", {}).get("errors", [])
    except (ValueError, AttributeError):
        return set()
    return {str(e.get("reason")) for e in errors if isinstance(e, dict)}


def enrich_index(client: YouTubeClient, video_ids: Iterable[str], cache: str | Path) -> ChannelIndex:
    """Fill the cache with the channels of ``video_ids``; only uncached ids are requested.

    Videos the API does not return (deleted, private) are cached with channel id "" so they
    are not asked for again.
    """
    path = Path(cache)
    index = load_index(path) if path.is_file() else ChannelIndex()
    missing = sorted({v for v in video_ids if v and v not in index.videos})
    if missing:
        found = client.video_channels(missing)
        for vid in missing:
            entry = found.get(vid)
            index.videos[vid] = entry["channel_id"] if entry else ""
            if entry and entry["channel_id"] and entry["channel_id"] not in index.channels:
                index.channels.setdefault(entry["channel_id"], {"channel_title": entry["channel_title"]})
        atomic_write_json(path, index.to_json())
    wanted = sorted({c for c in index.videos.values() if c and "subscriber_count" not in index.channels.get(c, {})})
    if wanted:
        fetched = client.channel_stats(wanted)
        for cid in wanted:  # channels the API no longer knows are cached empty, not re-asked
            index.channels[cid] = fetched.get(cid) or {**index.channels.get(cid, {}), "subscriber_count": ""}
        atomic_write_json(path, index.to_json())
    return index
