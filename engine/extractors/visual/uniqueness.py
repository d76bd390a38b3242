"""``uniqueness``: how far this video's look is from the videos already in the result store.

Uses similarity_metrics' ``video_embedding`` (unit vectors) and a per-platform index
``<result_store_root>/<platform_id>/.index/uniqueness.npz`` (arrays ``video_ids`` (unicode)
and ``embeddings`` float32; loaded with allow_pickle=False). Under an exclusive ``flock`` on
``.index/uniqueness.lock`` -- several workers share the store -- it reads the index, computes
cosine distances (1 - cos, 0..2) to every *other* video, then inserts/replaces this video and
rewrites the index atomically. ``uniqueness`` = mean distance to the ``k`` nearest neighbours
(null when the index holds no other video); it depends on what was processed before.
"""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.atomic import atomic_write_npz, read_npz, remove_stale_temps
from engine.extractors.base import (
    ArraySpec,
    Module,
    ModuleResult,
    Requirements,
    SkipModule,
    VideoInfo,
)


def index_dir(root: str, platform_id: str) -> Path:
    return Path(root) / platform_id / ".index"


class Uniqueness(Module):
    name = "uniqueness"
    version = "1"
    defaults: ClassVar[dict[str, Any]] = {"k": 5}
    outputs: ClassVar[dict[str, ArraySpec]] = {
        "neighbor_distances": ArraySpec("float32", ("k",), doc="cosine distances to the nearest videos"),
        "neighbor_ids": ArraySpec("<U64", ("k",)),
    }
    summary_keys = ("uniqueness", "n_compared")

    def requirements(self) -> Requirements:
        return Requirements(needs=("similarity_metrics",))

    def applicable(self, info: VideoInfo) -> str | None:
        if not info.result_store_root:
            return "no result store (uniqueness compares against videos already in the store)"
        return None

    def finish(self) -> ModuleResult:
        sim = self.inputs.upstream.get("similarity_metrics")
        if sim is None:
            raise SkipModule("similarity_metrics output is not available")
        info = self.inputs.info
        emb = np.asarray(sim.arrays["video_embedding"], np.float32)
        d = index_dir(str(info.result_store_root), info.platform_id or "default")
        d.mkdir(parents=True, exist_ok=True)
        with open(d / "uniqueness.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                path = d / "uniqueness.npz"
                remove_stale_temps(d, (path.name,))  # of a worker killed mid-rewrite; the flock is ours
                ids = np.zeros(0, "<U64")
                embs = np.zeros((0, emb.size), np.float32)
                if path.exists():
                    data = read_npz(path)
                    ids, embs = data["video_ids"].astype("<U64"), data["embeddings"].astype(np.float32)
                other = ids != info.video_id[:64]
                dist = 1.0 - embs[other] @ emb if embs.size else np.zeros(0, np.float32)
                order = np.argsort(dist, kind="stable")[: int(self.params["k"])]
                near_d, near_id = dist[order].astype(np.float32), ids[other][order]
                ids = np.concatenate([ids[other], np.asarray([info.video_id[:64]], "<U64")])
                embs = np.concatenate([embs[other], emb[None, :]]).astype(np.float32)
                atomic_write_npz(path, {"video_ids": ids, "embeddings": embs})
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
        summary = {
            "uniqueness": round(float(near_d.mean()), 6) if near_d.size else None,
            "nearest_distance": round(float(near_d[0]), 6) if near_d.size else None,
            "n_compared": int(other.sum()),
        }
        return ModuleResult({"neighbor_distances": near_d, "neighbor_ids": near_id.astype("<U64")}, summary)
