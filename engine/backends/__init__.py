"""Execution backends: where each video attempt runs. The supervisor is the same for all.

A backend starts attempts, watches them, and reports outcomes back through the supervisor's
``on_*`` methods; retry policy, state and control stay in the supervisor.
"""

from __future__ import annotations

import importlib
import selectors
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.supervisor import Supervisor


class Backend(Protocol):
    def register(self, sel: selectors.BaseSelector) -> None: ...
    def on_readable(self, token: Any) -> None: ...
    def check(self, now: float) -> None: ...
    def check_memory(self, metrics: dict[str, Any]) -> None: ...
    def worker_pids(self) -> dict[int, int]: ...
    def has_idle(self) -> bool: ...
    def ensure_workers(self) -> None: ...
    def busy(self) -> bool: ...
    def start(self, key: str, task: dict[str, Any], *, run_id: str, attempt: int, scale: float) -> None: ...
    def kill_busy(self, reason: str) -> None: ...
    def set_workers(self, n: int) -> None: ...
    def describe(self) -> list[dict[str, Any]]: ...
    def shutdown(self) -> None: ...


class BackendUnavailable(RuntimeError):
    """The configured backend cannot run here (e.g. Ray not installed)."""


# name -> "module:Class"; modules import lazily so the local path never loads Ray.
BACKENDS: dict[str, str] = {
    "local": "engine.backends.local:LocalBackend",
    "ray": "engine.backends.ray_backend:RayBackend",
}


def make_backend(sup: Supervisor, workers: int) -> Backend:
    name = sup.settings.pool.backend
    target = BACKENDS.get(name)
    if target is None:
        raise BackendUnavailable(f"unknown pool.backend {name!r} (known: {', '.join(sorted(BACKENDS))})")
    module, cls = target.split(":")
    backend: Backend = getattr(importlib.import_module(module), cls)(sup, workers)
    return backend


# name -> (module to import, how to get it)
REQUIREMENTS: dict[str, tuple[str, str]] = {
    "ray": ("ray", "pip install 'vidops[ray]'"),
}


def check_available(name: str) -> None:
    """Raise :class:`BackendUnavailable` with the install command when a backend's library is missing."""
    req = REQUIREMENTS.get(name)
    if req is None:
        return
    module, how = req
    try:
        importlib.import_module(module)
    except ImportError:
        raise BackendUnavailable(f"pool.backend = {name!r} needs the {module!r} package: {how}") from None
