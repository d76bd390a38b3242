"""``progress.json``: counts, throughput, ETA, per-worker activity and run statistics,
derived from a :class:`~engine.state.BatchState` (so status of a finished batch and the live
supervisor report the same numbers).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from typing import Any

import numpy as np

from engine.state import BatchState

THROUGHPUT_WINDOW_S = 300.0


def statistics(state: BatchState) -> dict[str, Any]:
    walls = np.array([v.wall_s for v in state.videos.values() if v.status == "done" and v.wall_s is not None])
    comp: dict[str, Counter[str]] = defaultdict(Counter)
    empty = 0
    for v in state.videos.values():
        for name, status in v.components.items():
            comp[name][status] += 1
        if v.status == "done" and v.components and all(s != "done" for n, s in v.components.items() if n != "probe"):
            empty += 1 if len(v.components) > 1 else 0
    counts = state.counts()
    per_video: dict[str, Any] = {"n": int(walls.size)}
    if walls.size:
        per_video.update(mean_s=round(float(walls.mean()), 4), p50_s=round(float(np.percentile(walls, 50)), 4),
                         p95_s=round(float(np.percentile(walls, 95)), 4), max_s=round(float(walls.max()), 4))
    return {
        "per_video_time": per_video,
        "components": {k: dict(v) for k, v in sorted(comp.items())},
        "totals": {"ok": counts["done"], "failed": counts["failed"], "skipped": counts["skipped"], "empty": empty},
        "error_classes": dict(Counter(v.error_class for v in state.videos.values() if v.status == "failed" and v.error_class)),
    }


def throughput(state: BatchState, now: float | None = None) -> tuple[float, float | None]:
    """(videos per minute over the recent window, ETA seconds or None)."""
    now = time.time() if now is None else now
    finished = [v.finished_ts for v in state.videos.values()
                if v.finished_ts is not None and v.status in ("done", "failed") and now - v.finished_ts <= THROUGHPUT_WINDOW_S]
    if not finished:
        return 0.0, None
    span = max(now - min(finished), 1.0)
    if state.started_ts:
        span = max(min(span, now - state.started_ts), 1.0)
    per_s = len(finished) / span
    c = state.counts()
    remaining = c["queued"] + c["running"]
    return round(per_s * 60, 2), (round(remaining / per_s, 1) if per_s > 0 else None)


def build_progress(state: BatchState, workers: list[dict[str, Any]] | None = None,
                   extra: dict[str, Any] | None = None) -> dict[str, Any]:
    now = time.time()
    # A finished or stopped batch is measured at its end: read later, its rate decayed to 0.
    per_min, eta = throughput(state, state.finished_ts or now)
    doc: dict[str, Any] = {
        "batch_id": state.batch_id,
        "state": state.state,
        "updated_at": round(now, 3),
        "started_at": state.started_ts,
        "elapsed_s": round((state.finished_ts or now) - state.started_ts, 1) if state.started_ts else 0.0,
        "counts": state.counts(),
        "throughput_per_min": per_min,
        "eta_s": eta,
        "workers": workers if workers is not None else [],
        "alerts": state.alerts[-20:],
        "metrics": {k: v for k, v in state.last_metrics.items() if k not in ("v", "type")},
        "stats": statistics(state),
    }
    if extra:
        doc.update(extra)
    return doc
