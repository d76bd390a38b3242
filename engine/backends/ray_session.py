"""Starting or joining Ray for the driver: idempotent, loopback-only when local, no usage stats.

``connect("")`` starts a private local Ray bound to 127.0.0.1 without a dashboard; any other
address joins that cluster ("auto", "HOST:PORT", "ray://HOST:PORT"). Ray is imported here, lazily.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import signal
import socket
import threading
from typing import Any

from engine.backends import BackendUnavailable, check_available

ENV_ADDRESS = "VIDOPS_RAY_ADDRESS"


def effective_address(configured: str) -> str:
    """``pool.ray_address``, unless ``VIDOPS_RAY_ADDRESS`` overrides it ('local' = a private local Ray).

    A batch freezes its config, so a resume of a batch whose cluster moved (or whose address was
    wrong) needs a way to point it elsewhere without editing batch.toml.
    """
    raw = os.environ.get(ENV_ADDRESS, "").strip()
    if not raw:
        return configured
    return "" if raw == "local" else raw


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
    if address:
        _probe(address)
    main = threading.current_thread() is threading.main_thread()
    old_term = signal.getsignal(signal.SIGTERM) if main else None
    kw: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING, "namespace": "vidops"}
    try:
        if address:
            ray.init(address=address, **kw)
        else:
            # "local" always starts a new Ray: a bare ray.init() joins any cluster `ray start` left
            # on this machine, or hangs on a stale /tmp/ray/ray_current_cluster of a dead one.
            ray.init(address="local", include_dashboard=False, **kw)
    except Exception as exc:  # noqa: BLE001 - any connection problem becomes one clear message
        where = f"the Ray cluster at {address!r}" if address else "a local Ray"
        raise BackendUnavailable(f"pool.backend = 'ray': cannot start or reach {where}: {exc}") from exc
    finally:
        if main and old_term is not None:
            signal.signal(signal.SIGTERM, old_term)  # ray.init replaces it; the supervisor owns it
    return ray, True


PROBE_TIMEOUT_S = 5.0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _tcp_error(host: str, port: int) -> OSError | None:
    try:
        with socket.create_connection((host.strip("[]"), port), timeout=PROBE_TIMEOUT_S):
            return None
    except OSError as exc:
        return exc


def _probe(address: str) -> None:
    """Fail fast, with one clear line, when a ``HOST:PORT`` cluster address cannot be reached.

    ``ray.init`` keeps retrying an unreachable GCS for many minutes, logging every few seconds,
    while the batch sits at 0 running. Ray also swaps a loopback host for this node's network
    address before it connects, so a head started with ``--node-ip-address=127.0.0.1`` (listening
    on loopback only) was never reached at ``127.0.0.1:PORT``; when only loopback answers, the
    driver stays on loopback, as with an empty ``ray_address``.
    """
    target = address
    if address == "auto":
        with contextlib.suppress(Exception):  # no cluster found: ray.init says so itself, at once
            from ray._private import services

            target = services.get_ray_address_from_environment("auto", None) or ""
    if not target or target == "auto" or "://" in target:
        return  # Ray Client addresses fail fast on their own
    host, sep, port_text = target.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise BackendUnavailable(f"Ray address {address!r} (pool.ray_address or {ENV_ADDRESS}): "
                                 "expected 'auto', 'HOST:PORT' or 'ray://HOST:PORT'")
    port = int(port_text)
    if _is_loopback(host) and _tcp_error(host, port) is None:
        node_ip = None
        with contextlib.suppress(Exception):
            from ray._private import services

            node_ip = services.get_node_ip_address()  # where Ray will connect instead of loopback
        if node_ip and not _is_loopback(node_ip) and _tcp_error(node_ip, port) is not None:
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
            with contextlib.suppress(ImportError, AttributeError):
                from ray._private import ray_constants

                ray_constants.ENABLE_RAY_CLUSTER = False  # a loopback-only head: stay on loopback
        return
    err = _tcp_error(host, port)
    if err is not None:
        why = err.strerror or f"no answer within {PROBE_TIMEOUT_S:g} s"  # a timeout has no strerror
        raise BackendUnavailable(
            f"pool.backend = 'ray': cannot reach the Ray cluster at {address!r} ({host}:{port}: {why}); "
            f"check that its head node runs ('ray status'), then pool.ray_address for a new batch or "
            f"{ENV_ADDRESS}=HOST:PORT for 'vidops resume' (a batch keeps the address it started with)")
