"""Joining a Ray cluster by HOST:PORT: an unreachable address fails at once, in one line, instead
of ray.init retrying for minutes; a loopback-only head is joined over loopback. No cluster needed."""

from __future__ import annotations

import socket
import time

import pytest

from engine.backends import BackendUnavailable, ray_session


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there any more: connecting is refused


def test_unreachable_address_fails_fast_with_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("ray.init must not be reached"))
    port = _closed_port()
    t0 = time.monotonic()
    with pytest.raises(BackendUnavailable) as info:
        ray_session.connect(f"127.0.0.2:{port}")
    assert time.monotonic() - t0 < ray_session.PROBE_TIMEOUT_S + 1
    msg = str(info.value)
    assert f"'127.0.0.2:{port}'" in msg and "Connection refused" in msg and "pool.ray_address" in msg
    assert "\n" not in msg


@pytest.mark.parametrize("address", ["nohost", "host:notaport", ":6379"])
def test_malformed_address_is_named(address: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ray = pytest.importorskip("ray")
    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("ray.init must not be reached"))
    with pytest.raises(BackendUnavailable, match="expected 'auto', 'HOST:PORT'"):
        ray_session.connect(address)


def test_loopback_only_head_is_joined_over_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ray swaps 127.0.0.1 for the node's LAN address; a head listening on loopback only was never reached."""
    pytest.importorskip("ray")
    from ray._private import ray_constants, services

    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", True)
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "1")
    monkeypatch.setattr(services, "get_node_ip_address", lambda *a: "192.0.2.10")
    answers = {"127.0.0.1": None, "192.0.2.10": ConnectionRefusedError(111, "Connection refused")}
    monkeypatch.setattr(ray_session, "_tcp_error", lambda host, port: answers[host])
    ray_session._probe("127.0.0.1:6379")
    assert ray_constants.ENABLE_RAY_CLUSTER is False

    # a head that answers on the LAN address too is left to Ray's own choice
    monkeypatch.setattr(ray_constants, "ENABLE_RAY_CLUSTER", True)
    answers["192.0.2.10"] = None
    ray_session._probe("127.0.0.1:6379")
    assert ray_constants.ENABLE_RAY_CLUSTER is True
