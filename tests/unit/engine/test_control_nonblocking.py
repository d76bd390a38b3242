"""The control channel never makes the single-threaded supervisor loop wait on a client."""

from __future__ import annotations

import json
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine import control
from engine.batch import BatchPaths
from engine.control import ControlServer, reply, send_command


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ControlServer]:
    (tmp_path / "b").mkdir()
    srv = ControlServer(BatchPaths(tmp_path / "b"))
    yield srv
    srv.close()


def _client(srv: ControlServer) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(str(srv.path))
    return s


def _serve_until(srv: ControlServer, stop: threading.Event, served: list[dict[str, object]]) -> None:
    """The supervisor's use of the channel: a selector on ``srv``, 0.1 s ticks."""
    sel = selectors.DefaultSelector()
    sel.register(srv, selectors.EVENT_READ)
    while not stop.is_set():
        for _ in sel.select(timeout=0.1):
            req = srv.accept_one()
            if req is not None:
                served.append(req[1])
                reply(req[0], {"ok": True, "echo": req[1]})
    sel.close()


def test_a_silent_client_does_not_stall_a_prompt_command(server: ControlServer) -> None:
    stop, served = threading.Event(), []  # type: ignore[var-annotated]
    loop = threading.Thread(target=_serve_until, args=(server, stop, served), daemon=True)
    loop.start()
    silent = _client(server)  # connects, never sends
    try:
        time.sleep(0.3)  # the loop has seen the silent connection first
        t0 = time.monotonic()
        answer = send_command(BatchPaths(server.paths.root), "status", timeout_s=10)
        elapsed = time.monotonic() - t0
    finally:
        stop.set()
        loop.join(10)
        silent.close()
    assert answer["echo"] == {"command": "status", "args": {}}
    # the blocking read made this wait out the silent client's 2 s timeout; served at once now
    assert elapsed < 1.0, elapsed


def test_accept_one_returns_at_once_and_a_request_sent_in_pieces_is_served(server: ControlServer) -> None:
    c = _client(server)
    c.sendall(b'{"command": "pa')
    t0 = time.monotonic()
    for _ in range(5):
        assert server.accept_one() is None  # nothing complete yet: no waiting for the rest
    assert time.monotonic() - t0 < 1.0
    c.sendall(b'use"}\n')
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ)
    assert sel.select(timeout=5), "the rest of the line makes the channel readable"
    got = server.accept_one()
    assert got is not None and got[1] == {"command": "pause"}
    reply(got[0], {"ok": True})
    assert json.loads(c.recv(1000)) == {"ok": True}
    c.close()
    sel.close()


def test_a_silent_client_is_answered_and_dropped_after_the_read_timeout(
        server: ControlServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(control, "_READ_TIMEOUT_S", 0.2)
    c = _client(server)
    deadline = time.monotonic() + 5
    while not server._pending and time.monotonic() < deadline:
        server.accept_one()
    assert server._pending
    time.sleep(0.3)
    assert server.accept_one() is None
    assert not server._pending
    assert "no complete request line" in json.loads(c.recv(1000))["error"]
    c.close()


def test_a_bad_request_is_answered(server: ControlServer) -> None:
    c = _client(server)
    c.sendall(b"[1, 2]\n")
    c.settimeout(0.05)
    data = b""
    for _ in range(100):
        assert server.accept_one() is None
        try:
            data = c.recv(1000)
            break
        except TimeoutError:
            continue
    assert "request must be a JSON object" in json.loads(data)["error"]
    c.close()
