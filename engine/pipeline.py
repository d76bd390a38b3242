"""The per-video pipeline: the one entry point every worker (local or Ray) calls.

``process_video`` runs the ``probe`` component, then the enabled extractor modules, writing
each component's NPZ and manifest entry through a :class:`~engine.store.ResultSink` as it
completes, and skipping components an earlier attempt already finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine import extractors
from engine.config import Settings, config_hash
from engine.probe import PROBE_VERSION, probe
from engine.store import ResultSink

ProgressFn = Callable[[str, float], None]


def component_versions(settings: Settings) -> dict[str, str]:
    """Versions of every component the settings enable (they feed config_hash)."""
    versions = {"probe": PROBE_VERSION}
    versions.update(extractors.component_versions(settings.extract))
    return versions


def components(settings: Settings) -> list[str]:
    """Component names in execution order."""
    return list(component_versions(settings))


def settings_hash(settings: Settings) -> str:
    return config_hash(settings, {**component_versions(settings), "views": extractors.VIEWS_VERSION})


@dataclass
class VideoContext:
    """Everything a component needs about the video being processed."""

    task: dict[str, Any]
    settings: Settings
    sink: ResultSink
    progress: ProgressFn
    batch_size_scale: float
    result_store_root: str | None
    done: set[str]


def process_video(
    task: dict[str, Any],
    settings: Settings,
    sink: ResultSink,
    progress: ProgressFn,
    batch_size_scale: float = 1.0,
    result_store_root: str | None = None,
) -> dict[str, Any]:
    """Run every missing component for ``task`` and return the completed manifest."""
    manifest = sink.manifest()
    done = {name for name, c in manifest.get("components", {}).items() if c.get("status") in ("done", "skipped")}
    if "probe" not in done:
        progress("probe", 0.0)
        t0 = time.perf_counter()
        summary, arrays = probe(task["video_path"])
        sink.write_component("probe", version=PROBE_VERSION, arrays=arrays, summary=summary,
                             wall_s=time.perf_counter() - t0)
        done.add("probe")
        progress("probe", 1.0)
    ctx = VideoContext(task=task, settings=settings, sink=sink, progress=progress,
                       batch_size_scale=batch_size_scale, result_store_root=result_store_root, done=done)
    extractors.run_modules(ctx)
    sink.complete()
    return sink.manifest()
