"""Settings of the ``[dataset]`` section: horizons, tolerance, target rules, adapters, features.

Every field is documented and validated by :mod:`engine.settings_base`; the ones that change
the table are marked ``affects_results`` and feed ``config_hash``. See docs/dataset.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.settings_base import setting

# Names of the snapshot-format adapters (engine.dataset.adapters.ADAPTERS; a test keeps them equal),
# here so the CLI can list them without importing pandas.
SNAPSHOT_FORMATS = ("generic", "trending")


@dataclass(frozen=True)
class DatasetSettings:
    horizons_days: list[int] = setting(
        [7, 14, 21], "Target horizons in days after snapshot 1 (targets target_{metric}_{h}d).",
        min=1, max=3650, affects_results=True,
    )
    required_horizons_days: list[int] = setting(
        [14, 21], "Horizons a row must have a target snapshot for, else it is left out (counted in the "
        "report). Empty = keep every video. For the real trending data use [] or [7] (few 21-day spans).",
        min=1, max=3650, affects_results=True,
    )
    tolerance_hours: float = setting(
        24.0, "A target snapshot is the one nearest to snapshot1 + h within +/- this many hours.",
        min=0.0, max=24.0 * 365, affects_results=True,
    )
    negative_delta: Literal["clip", "missing"] = setting(
        "clip", "Rule for a counter that went down (delta < 0): 'clip' to 0, or 'missing' (mask 0, "
        "target NaN). Either way it is counted in the report.", affects_results=True,
    )
    trending_snapshot_hour_utc: float = setting(
        14.0, "Time of day (UTC hours) the trending adapter gives a trending_date (which has no time). "
        "14 is the first whole hour at or after every same-day publish_time in the US and IN files.",
        min=0.0, max=23.999, affects_results=True,
    )
    platform_id: str = setting(
        "youtube", "platform_id for snapshot rows that carry none (trending files, generic files "
        "without a platform_id column).", affects_results=True,
    )
    extractor_config_hash: str = setting(
        "", "Which result-store runs feed video features: '' = runs whose config_hash matches the "
        "current [extract] config, 'any' = the config_hash of the newest complete run in the store, "
        "or an explicit 16-hex config_hash.", affects_results=True,
    )
    embedding_max_dim: int = setting(
        64, "Largest embedding expanded into one column per component; larger arrays are skipped "
        "(listed in dataset_meta.json).", min=1, max=4096, affects_results=True,
    )
    embedding_arrays: list[str] = setting(
        [], "Extra 'module.array' names treated as fixed-size embeddings (besides names containing "
        "'emb' or 'vector').", affects_results=True,
    )
    max_examples: int = setting(
        20, "Skipped input rows quoted (file and row number) per reason in report.md.", min=0, max=10_000,
    )
    youtube_api_base_url: str = setting(
        "https://www.googleapis.com/youtube/v3", "Base URL of the YouTube Data API v3 (tests point it "
        "at a loopback server).",
    )
    youtube_api_key_env: str = setting(
        "YOUTUBE_API_KEY", "Environment variable holding the YouTube Data API key.",
    )
    youtube_api_max_retries: int = setting(
        5, "Retries of one API request on quota (403/429) and 5xx errors, with exponential back-off.",
        min=0, max=20,
    )
    youtube_api_backoff_s: float = setting(
        1.0, "First back-off delay of the API client; doubles with each retry.", min=0.0, max=600.0,
    )

    def validate(self) -> str | None:
        if len(set(self.horizons_days)) != len(self.horizons_days):
            return "horizons_days: duplicate horizon"
        missing = sorted(set(self.required_horizons_days) - set(self.horizons_days))
        if missing:
            return f"required_horizons_days: {missing} not in horizons_days {self.horizons_days}"
        if not self.platform_id:
            return "platform_id: must not be empty"
        h = self.extractor_config_hash
        if h not in ("", "any") and not (len(h) == 16 and all(c in "0123456789abcdef" for c in h)):
            return f"extractor_config_hash: expected '', 'any' or 16 hex characters, got {h!r}"
        return None
