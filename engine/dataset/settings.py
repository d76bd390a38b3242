"""Settings of the ``[dataset]`` section (filled by the dataset builder)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetSettings:
    pass
