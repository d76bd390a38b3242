"""Feature extraction modules (filled by the extractors work).

Contract with :mod:`engine.pipeline`:
- ``component_versions(extract_settings) -> dict[name, version]`` for the enabled modules,
  in execution order (feeds ``config_hash``);
- ``run_modules(ctx)`` runs every enabled module not in ``ctx.done``, writing each through
  ``ctx.sink.write_component`` and reporting ``ctx.progress(stage, fraction)``.
"""

from __future__ import annotations

from typing import Any

from engine.extractors.settings import ExtractSettings


def component_versions(settings: ExtractSettings) -> dict[str, str]:
    return {}


def run_modules(ctx: Any) -> None:
    return None
