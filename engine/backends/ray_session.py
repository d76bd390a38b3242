"""Starting or joining Ray for the driver: idempotent, loopback-only when local, no usage stats.

``connect("")`` starts a private local Ray bound to 127.0.0.1 without a dashboard; any other
address joins that cluster ("auto", "HOST:PORT", "ray://HOST:PORT"). Ray is imported here, lazily.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import Any

from engine.backends import BackendUnavailable, check_available


def connect(address: str) -> tuple[Any, bool]:
    """Import and initialise Ray (idempotent); returns (ray, whether this call initialised it)."""
    check_available("ray")  # e.g. `vidops resume` of a Ray batch where Ray is not installed
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if not address:  # a local Ray for this machine only: bind to loopback, not the LAN address
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray

    if ray.is_initialized():
        return ray, False
    if not address:
        try:  # ray may have been imported before the variable was set (check_available does)
            from ray._private import ray_constants

            ray_constants.ENABLE_RAY_CLUSTER = os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] != "0"
        except (ImportError, AttributeError):
            pass
    main = threading.current_thread() is threading.main_thread()
    old_term = signal.getsignal(signal.SIGTERM) if main else None
    kw: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING, "namespace": "vidops"}
    try:
        if address:
            ray.init(address=address, **kw)
        else:
            ray.init(include_dashboard=False, **kw)
    except Exception as exc:  # noqa: BLE001 - any connection problem becomes one clear message
        where = f"the Ray cluster at {address!r}" if address else "a local Ray"
        raise BackendUnavailable(f"pool.backend = 'ray': cannot start or reach {where}: {exc}") from exc
    finally:
        if main and old_term is not None:
            signal.signal(signal.SIGTERM, old_term)  # ray.init replaces it; the supervisor owns it
    return ray, True
