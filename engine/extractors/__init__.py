"""Feature extraction modules (see docs/extractors.md).

Contract with :mod:`engine.pipeline`:
- ``component_versions(extract_settings) -> dict[name, version]`` for the enabled modules,
  in execution order (feeds ``config_hash``);
- ``warm_up(extract_settings)`` lets modules load models once per worker process;
- ``run_modules(ctx)`` runs every enabled module not in ``ctx.done``, writing each through
  ``ctx.sink.write_component`` and reporting ``ctx.progress(stage, fraction)``.

The heavy parts (decoder, modules) are imported on first use.
"""

from __future__ import annotations

from typing import Any

from engine.extractors.settings import ExtractSettings

#: version of the shared decode-and-view code (engine/extractors/decode.py): every frame module's
#: input, so it feeds config_hash beside the module versions (2: a bilinear step to twice the view
#: size where no integer stride lands there)
VIEWS_VERSION = "2"


def component_versions(settings: ExtractSettings) -> dict[str, str]:
    from engine.extractors import registry

    return {n: registry.module_class(n).version for n in registry.ordered(settings.modules)}


def warm_up(settings: ExtractSettings) -> None:
    """Load the enabled modules' heavy resources once per worker process (``Module.warm_up``)."""
    from engine.extractors.runner import warm_up as _warm_up

    _warm_up(settings)


def run_modules(ctx: Any) -> None:
    from engine.extractors.runner import run_modules as _run

    _run(ctx)
