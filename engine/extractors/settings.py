"""Settings of the ``[extract]`` section: which feature modules run and with what parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from engine.settings_base import setting

# Kept in sync with engine.extractors.registry.DEFAULT_MODULES (a test checks it); spelled
# out here so that reading the config imports no extractor code.
_DEFAULT_MODULES = [
    "loudness", "tempo", "clap", "cut_detection", "shot_quality", "video_pacing", "story_structure",
    "similarity_metrics", "text_scoring", "uniqueness",
]


@dataclass(frozen=True)
class ExtractSettings:
    modules: list[str] = setting(
        _DEFAULT_MODULES,
        "Feature modules to run after the probe; they run in registry order whatever the order "
        "here (see docs/extractors.md). clap embeds with its weight-free spectral-v1 backend unless a "
        "checkpoint is configured; scene_classification needs a model file and is opt-in.",
        affects_results=True,
    )
    device: Literal["auto", "cpu", "cuda"] = setting("auto", "Device for batched per-frame work: auto picks CUDA when present.")
    keep_frames: bool = setting(False, "Keep the sampled frames (JPEG) in a frames/ directory of the run.")
    fast_decode: bool = setting(
        True,
        "Skip the decoder's in-loop deblocking filter (about 2x faster VP8/H.264 decoding; "
        "analysis frames keep slight blocking, see docs/extractors.md).",
        affects_results=True,
    )
    batch_frames: int = setting(64, "Frames handed to a module at once (bounds per-module memory).", min=1, max=4096)
    validate: bool = setting(True, "Validate every artifact after extraction; a broken one fails the video (artifact_invalid).")
    params: dict[str, dict[str, Any]] = setting(
        {}, "Per-module parameters, e.g. [extract.params.cut_detection] threshold = 0.3.", affects_results=True
    )

    def validate_fields(self) -> str | None:
        from engine.extractors import registry

        problem = registry.check_modules(self.modules)
        if problem:
            return f"extract.{problem}"
        bad = registry.check_params(self.params)
        if bad:
            # build_section prefixes "extract"; repeat the full dotted key so it is greppable
            return f"extract.{bad[0]}: {bad[1]}"
        return None

    def check_settings(self) -> str | None:
        """Called by build_section (the hook is named check_settings so it cannot shadow a field)."""
        return self.validate_fields()
