"""Settings of the ``[extract]`` section: which feature modules run and with what parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from engine.settings_base import setting


@dataclass(frozen=True)
class ExtractSettings:
    modules: list[str] = setting(
        [],
        "Feature modules to run after the probe, in registry order (see docs/extractors.md).",
        affects_results=True,
    )
    device: Literal["auto", "cpu", "cuda"] = setting("auto", "Device for batched per-frame work: auto picks CUDA when present.")
    keep_frames: bool = setting(False, "Keep the sampled frames (JPEG) in a frames/ directory of the run.")
    params: dict[str, dict[str, Any]] = setting(
        {}, "Per-module parameters, e.g. [extract.params.cut_detection] threshold = 0.3.", affects_results=True
    )
