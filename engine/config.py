"""vidops configuration: ``config.toml`` read with tomllib into typed, validated settings.

Sections are frozen dataclasses declared with :func:`engine.settings_base.setting`; the
registry :data:`SECTIONS` lists every top-level table. Unknown keys, wrong types and
out-of-range values raise :class:`ConfigError` naming the file and the key before anything
runs. :func:`config_hash` hashes only what changes results (plus component versions).
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from engine.dataset.settings import DatasetSettings
from engine.extractors.settings import ExtractSettings
from engine.model.settings import ModelSettings
from engine.settings_base import (
    ConfigError,
    build_section,
    result_affecting,
    section,
    setting,
    to_dict,
)


@dataclass(frozen=True)
class PathsSettings:
    workspace: str = setting("workspace", "Workspace directory (batches, result store, artifacts); a relative path is taken relative to the config file's folder. --workspace, else VIDOPS_WORKSPACE (both relative to the current directory) override it; with none of the three: ./workspace.")
    result_store: str = setting("", "Result store directory (relative: to the config file's folder); empty means <workspace>/result_store.")


@dataclass(frozen=True)
class PoolSettings:
    backend: Literal["local", "ray"] = setting("local", "Where videos run: 'local' subprocess pool or a 'ray' cluster.")
    workers: int = setting(0, "Worker processes; 0 means auto (GPUs x workers_per_gpu with NVIDIA GPUs, else CPU cores).", min=0, max=512)
    workers_per_gpu: int = setting(2, "Workers per NVIDIA GPU when workers = 0.", min=1, max=64)
    video_timeout_s: float = setting(1800.0, "Wall-clock limit for one video attempt; the worker is killed and the video retried (transient 'timeout').", min=1.0)
    stall_timeout_s: float = setting(300.0, "A worker that reports no progress for this long is killed, the video retried and an alert raised.", min=1.0)
    max_rss_mb: int = setting(0, "Per-worker resident memory limit in MiB (0 = none); over it the worker is killed (transient 'oom').", min=0)
    max_videos_per_worker: int = setting(0, "Recycle a worker after this many videos (0 = never).", min=0)
    grace_s: float = setting(10.0, "On a graceful stop, how long in-flight videos may finish before their workers are killed.", min=0.0)
    start_timeout_s: float = setting(120.0, "A worker that does not report ready within this time is replaced.", min=1.0)
    ray_address: str = setting("", "Ray cluster address: 'auto', 'host:port', 'ray://host:port', or empty to start a private local Ray (env VIDOPS_RAY_ADDRESS overrides, also for a resumed batch, which otherwise keeps the address it started with; 'local' = empty).")
    ray_num_cpus: float = setting(1.0, "CPUs reserved per video task on Ray (fractions allowed).", min=0.0)
    ray_num_gpus: float = setting(0.0, "GPUs reserved per video task on Ray (fractions allowed).", min=0.0)
    ray_ship: Literal["auto", "always", "never"] = setting("auto", "How inputs reach Ray workers: 'auto' ships a file through the object store when its path is not visible on the worker's node, 'always' ships every file, 'never' uses paths only (env VIDOPS_RAY_SHIP overrides).")
    ray_ship_max_mb: float = setting(256.0, "Largest input shipped through the object store, MiB (env VIDOPS_RAY_SHIP_MAX_MB overrides).", min=0.0)


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = setting(3, "Attempts per video for transient failures (worker lost, timeout, OOM, transient I/O).", min=1, max=100)
    backoff_base_s: float = setting(2.0, "First retry delay; doubles with each attempt.", min=0.0)
    backoff_max_s: float = setting(300.0, "Upper bound of a retry delay.", min=0.0)
    jitter: float = setting(0.25, "Random extra delay as a fraction of the backoff (0..1).", min=0.0, max=1.0)
    unknown_retries: int = setting(1, "Retries for unclassified exceptions before they count as permanent.", min=0, max=100)


@dataclass(frozen=True)
class MonitorSettings:
    interval_s: float = setting(2.0, "Seconds between CPU/RAM/disk/GPU samples.", min=0.1, max=3600.0)
    progress_interval_s: float = setting(1.0, "Minimum seconds between progress.json rewrites.", min=0.2, max=60.0)
    progress_events_per_s: float = setting(2.0, "Per-video limit on recorded video_progress events.", min=0.1, max=50.0)


@dataclass(frozen=True)
class AlertsSettings:
    error_rate: float = setting(0.10, "Alert when the failed share of the last `window` finished videos exceeds this.", min=0.0, max=1.0)
    window: int = setting(50, "Finished videos the error rate is computed over.", min=1)
    min_error_samples: int = setting(5, "Finished videos needed before the error-rate alert may fire.", min=1)
    crash_loop_count: int = setting(3, "Worker losses within crash_loop_window_s that count as a crash loop.", min=1)
    crash_loop_window_s: float = setting(60.0, "Window for crash-loop detection.", min=1.0)
    min_free_disk_gb: float = setting(5.0, "Alert when the workspace disk has less free space than this.", min=0.0)


@dataclass(frozen=True)
class ConsoleSettings:
    refresh_hz: float = setting(1.0, "Console refresh rate.", min=0.1, max=2.0)
    max_table_rows: int = setting(500, "Rows of the videos table mounted at once (a window over very large batches).", min=20, max=100_000)


@dataclass(frozen=True)
class Settings:
    paths: PathsSettings = section("Where things are written.")(PathsSettings)
    pool: PoolSettings = section("The supervised worker pool.")(PoolSettings)
    retry: RetrySettings = section("Retry policy.")(RetrySettings)
    monitor: MonitorSettings = section("System sampling and progress.")(MonitorSettings)
    alerts: AlertsSettings = section("Alert thresholds.")(AlertsSettings)
    extract: ExtractSettings = section("Feature extraction modules.")(ExtractSettings)
    dataset: DatasetSettings = section("Dataset builder.")(DatasetSettings)
    model: ModelSettings = section("Model training and inference.")(ModelSettings)
    console: ConsoleSettings = section("The Textual console.")(ConsoleSettings)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(path), "", "config file not found") from None
    except IsADirectoryError:
        raise ConfigError(str(path), "", "is a directory, not a config file") from None
    except OSError as exc:  # permission denied, I/O error, ...
        raise ConfigError(str(path), "", f"cannot read the config file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from None


# Settings that name a file or folder. A relative value written in a config file is taken
# relative to that file's folder (not the directory vidops happens to be started in), so a
# batch, a resume and a detached job all see the same place.
PATH_KEYS: tuple[str, ...] = ("paths.workspace", "paths.result_store", "model.artifacts_dir")


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    for dotted in PATH_KEYS:
        section_name, key = dotted.split(".")
        table = data.get(section_name)
        if not isinstance(table, dict):
            continue
        value = table.get(key)
        if isinstance(value, str) and value:  # "" keeps its meaning (derived from the workspace)
            table[key] = os.path.normpath(base / Path(value).expanduser())


def parse_settings(data: dict[str, Any], source: str = "<config>") -> Settings:
    """Validate a plain dict (as read from TOML) into :class:`Settings`."""
    settings: Settings = build_section(Settings, data, source, "")
    return settings


def load_settings(path: str | os.PathLike[str] | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Read ``path`` (or defaults when None), then apply dotted-key ``overrides`` (CLI flags).

    Relative paths in the file (:data:`PATH_KEYS`) become absolute, relative to its folder.
    """
    data: dict[str, Any] = _read_toml(Path(path)) if path is not None else {}
    if path is not None:
        _resolve_paths(data, Path(os.path.abspath(path)).parent)
    source = str(path) if path is not None else "<defaults>"
    settings = parse_settings(data, source)
    if overrides:
        settings = apply_overrides(settings, overrides)
    return settings


def apply_overrides(settings: Settings, overrides: dict[str, Any]) -> Settings:
    """Return a copy with ``{"pool.workers": 4}``-style overrides applied and validated."""
    data = to_dict(settings)
    for dotted, value in overrides.items():
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            if part not in node or not isinstance(node[part], dict):
                raise ConfigError("<command line>", dotted, "unknown setting")
            node = node[part]
        if parts[-1] not in node:
            raise ConfigError("<command line>", dotted, "unknown setting")
        node[parts[-1]] = value
    return parse_settings(data, "<command line>")


def config_hash(settings: Settings, component_versions: dict[str, str] | None = None,
                sections: tuple[str, ...] = ("extract",)) -> str:
    """Stable hash of the result-affecting settings of ``sections`` and component versions.

    The default covers what changes extraction results (the result store's identity): a new
    model or dataset setting must not invalidate extracted features.
    """
    payload = {
        "settings": {name: result_affecting(getattr(settings, name)) for name in sections},
        "components": dict(sorted((component_versions or {}).items())),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def with_workspace(settings: Settings, workspace: str) -> Settings:
    return replace(settings, paths=replace(settings.paths, workspace=workspace))


__all__ = [
    "AlertsSettings",
    "ConfigError",
    "ConsoleSettings",
    "MonitorSettings",
    "PATH_KEYS",
    "PathsSettings",
    "PoolSettings",
    "RetrySettings",
    "Settings",
    "apply_overrides",
    "config_hash",
    "load_settings",
    "parse_settings",
]
