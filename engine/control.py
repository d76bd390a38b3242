"""The supervisor's control channel: a Unix socket (mode 0600) reachable only by its user.

One request per connection: a JSON line ``{"command": ..., "args": {...}}``, answered by a
JSON line ``{"ok": bool, ...}``. Requests are read without blocking (see :class:`ControlServer`).
Unix socket paths are limited to ~107 bytes, so a long
batch path gets its socket under the user's runtime/tmp dir; ``control.addr`` in the batch
directory names the real path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import selectors
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_text
from engine.batch import BatchPaths

_MAX_SUN_PATH = 100
_MAX_REQUEST = 1 << 20
_READ_TIMEOUT_S = 5.0  # a client with no complete request line by then is answered and dropped
_MAX_PENDING = 32  # half-read connections kept at once (the oldest is dropped beyond)

if sys.platform == "linux":
    _Poller = selectors.EpollSelector
else:
    _Poller = selectors.KqueueSelector


class ControlError(RuntimeError):
    """The supervisor could not be reached or refused the command."""


def socket_path(paths: BatchPaths) -> Path:
    direct = paths.root / "control.sock"
    if len(str(direct)) <= _MAX_SUN_PATH:
        return direct
    digest = hashlib.sha256(str(paths.root.resolve()).encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()) / f"vidops-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    return base / f"{digest}.sock"


class ControlServer:
    """Listening socket owned by the supervisor; the selector loop calls :meth:`accept_one`.

    The supervisor loop is single-threaded, so it must never wait on a client: a blocking read
    of one that connected but did not send stalled every worker message, timeout and command
    for 2 s. The listening socket and each half-read connection therefore sit in a private
    epoll set whose own fd is what the loop watches (:meth:`fileno`): it turns readable when a
    client connects or sends, each :meth:`accept_one` does only non-blocking reads, and a
    request is handed over once its line is complete. A silent client is answered and dropped
    after ``_READ_TIMEOUT_S`` (checked whenever the channel is active; at most ``_MAX_PENDING``
    are kept).
    """

    def __init__(self, paths: BatchPaths) -> None:
        self.paths = paths
        self.path = socket_path(paths)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a dead supervisor; we hold the batch lock
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)  # created 0600: only this user may connect
        try:
            self.sock.bind(str(self.path))
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)
        self.sock.listen(16)
        self.sock.setblocking(False)
        self._poll = _Poller()
        self._poll.register(self.sock, selectors.EVENT_READ)
        self._pending: dict[socket.socket, tuple[bytearray, float]] = {}  # conn: (data so far, deadline)
        atomic_write_text(paths.control_addr, str(self.path) + "\n", durable=False)

    def fileno(self) -> int:
        return self._poll.fileno()

    def accept_one(self) -> tuple[socket.socket, dict[str, Any]] | None:
        """Accept new connections and return one complete request, if any; never blocks."""
        self._expire(time.monotonic())
        for key, _ in self._poll.select(timeout=0):
            conn = self._accept() if key.fileobj is self.sock else key.fileobj
            if not isinstance(conn, socket.socket) or conn not in self._pending:
                continue  # no connection after all, or dropped above
            done = self._read(conn)
            if done is not None:
                return done  # the poll is level-triggered: the others come next time
        return None

    def _accept(self) -> socket.socket | None:
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return None
        if len(self._pending) >= _MAX_PENDING:
            self._answer(next(iter(self._pending)), "too many connections without a request")
        conn.setblocking(False)
        self._pending[conn] = (bytearray(), time.monotonic() + _READ_TIMEOUT_S)
        self._poll.register(conn, selectors.EVENT_READ)
        return conn

    def _read(self, conn: socket.socket) -> tuple[socket.socket, dict[str, Any]] | None:
        data, _ = self._pending[conn]
        try:
            chunk = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return None  # connected, nothing sent yet
        except OSError as exc:
            self._answer(conn, f"bad request: {exc}")
            return None
        data += chunk
        if chunk and not data.endswith(b"\n") and len(data) < _MAX_REQUEST:
            return None
        self._forget(conn)
        try:
            req = json.loads(bytes(data) or b"{}")
            if not isinstance(req, dict):
                raise ValueError("request must be a JSON object")
        except ValueError as exc:
            reply(conn, {"ok": False, "error": f"bad request: {exc}"})
            return None
        return conn, req

    def _expire(self, now: float) -> None:
        for conn in [c for c, (_, deadline) in self._pending.items() if deadline <= now]:
            self._answer(conn, f"bad request: no complete request line within {_READ_TIMEOUT_S:g} s")

    def _forget(self, conn: socket.socket) -> None:
        """Stop watching ``conn``; it is blocking again (with a timeout) for :func:`reply`."""
        del self._pending[conn]
        self._poll.unregister(conn)
        conn.settimeout(2.0)

    def _answer(self, conn: socket.socket, error: str) -> None:
        self._forget(conn)
        reply(conn, {"ok": False, "error": error})

    def close(self) -> None:
        for conn in list(self._pending):
            self._forget(conn)
            conn.close()
        self._poll.close()
        self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        with contextlib.suppress(FileNotFoundError):
            self.paths.control_addr.unlink()


def reply(conn: socket.socket, obj: dict[str, Any]) -> None:
    try:
        conn.sendall(json.dumps(obj, default=str).encode() + b"\n")
    except OSError:
        pass
    finally:
        conn.close()


def send_command(paths: BatchPaths, command: str, timeout_s: float = 10.0, **args: Any) -> dict[str, Any]:
    """Send one command to the batch's live supervisor and return its reply."""
    try:
        path = paths.control_addr.read_text().strip()
    except FileNotFoundError:
        raise ControlError(f"batch {paths.batch_id} has no running supervisor") from None
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout_s)
    try:
        s.connect(path)
        s.sendall(json.dumps({"command": command, "args": args}).encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (OSError, TimeoutError) as exc:
        raise ControlError(f"cannot reach the supervisor of batch {paths.batch_id}: {exc}") from None
    finally:
        s.close()
    try:
        answer: dict[str, Any] = json.loads(data)
    except ValueError:
        raise ControlError(f"the supervisor of batch {paths.batch_id} closed the connection") from None
    if not answer.get("ok", False):
        raise ControlError(answer.get("error", "command refused"))
    return answer
