"""Snapshot-format adapters: an explicit registry, one module per format.

An adapter is ``adapt(raw, path, settings, skips) -> DataFrame`` turning a table read with
:func:`~engine.dataset.adapters.base.read_table` (every column ``str``) into the canonical
columns :data:`~engine.dataset.adapters.base.CANONICAL_COLUMNS`, logging every skipped row.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from engine.dataset.adapters import generic, trending
from engine.dataset.adapters.base import DatasetInputError, SkipLog, read_table
from engine.dataset.settings import DatasetSettings

Adapter = Callable[[pd.DataFrame, str, DatasetSettings, SkipLog], pd.DataFrame]

ADAPTERS: dict[str, Adapter] = {
    generic.NAME: generic.adapt,
    trending.NAME: trending.adapt,
}


def load_snapshots(path: str, fmt: str, settings: DatasetSettings, skips: SkipLog) -> pd.DataFrame:
    """Read ``path`` with the adapter ``fmt``; unknown formats raise :class:`DatasetInputError`."""
    adapter = ADAPTERS.get(fmt)
    if adapter is None:
        raise DatasetInputError(f"unknown snapshot format {fmt!r} (known: {', '.join(sorted(ADAPTERS))})")
    return adapter(read_table(path), path, settings, skips)


__all__ = ["ADAPTERS", "DatasetInputError", "SkipLog", "load_snapshots"]
