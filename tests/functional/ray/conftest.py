"""One loopback-only local Ray per test module; the vidops drivers under test connect to it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """Start Ray (2 CPUs, no dashboard, no usage stats, 127.0.0.1) and yield its GCS address."""
    saved = {k: os.environ.get(k) for k in ("RAY_USAGE_STATS_ENABLED", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")}
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # node IP = loopback, never the LAN address
    ray = pytest.importorskip("ray")
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False  # in case ray was imported before the variable was set
    if ray.is_initialized():
        ray.shutdown()
    # address="local": a new Ray even when `ray start` left a cluster (or a stale address file) here
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, namespace="vidops-tests")
    address = ray.get_runtime_context().gcs_address
    assert address.startswith("127.0.0.1:"), address
    try:
        yield address
    finally:
        ray.shutdown()
        ray_constants.ENABLE_RAY_CLUSTER = True
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
