"""Feature extraction modules (see docs/extractors.md).

Contract with :mod:`engine.pipeline`:
- ``component_versions(extract_settings) -> dict[name, version]`` for the enabled modules,
  in execution order (feeds ``config_hash``);
- ``run_modules(ctx)`` runs every enabled module not in ``ctx.done``, writing each through
  ``ctx.sink.write_component`` and reporting ``ctx.progress(stage, fraction)``.

The heavy parts (decoder, modules) are imported on first use.
"""

from __future__ import annotations

from typing import Any

from engine.extractors.settings import ExtractSettings


def component_versions(settings: ExtractSettings) -> dict[str, str]:
    from engine.extractors import registry

    return {n: registry.module_class(n).version for n in registry.ordered(settings.modules)}


def run_modules(ctx: Any) -> None:
    from engine.extractors.runner import run_modules as _run

    _run(ctx)
