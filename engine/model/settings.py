"""Settings of the ``[model]`` section (filled by the model trainer)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSettings:
    pass
