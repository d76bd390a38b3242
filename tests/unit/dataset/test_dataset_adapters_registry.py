"""The light list of snapshot formats the CLI shows matches the adapter registry."""

from engine.dataset.adapters import ADAPTERS
from engine.dataset.settings import SNAPSHOT_FORMATS


def test_format_names_match_registry() -> None:
    assert tuple(sorted(ADAPTERS)) == tuple(sorted(SNAPSHOT_FORMATS))
