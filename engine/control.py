"""The supervisor's control channel: a Unix socket (mode 0600) reachable only by its user.

One request per connection: a JSON line ``{"command": ..., "args": {...}}``, answered by a
JSON line ``{"ok": bool, ...}``. Unix socket paths are limited to ~107 bytes, so a long
batch path gets its socket under the user's runtime/tmp dir; ``control.addr`` in the batch
directory names the real path.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_text
from engine.batch import BatchPaths

_MAX_SUN_PATH = 100


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
    """Listening socket owned by the supervisor; the selector loop calls :meth:`accept_one`."""

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
        atomic_write_text(paths.control_addr, str(self.path) + "\n", durable=False)

    def fileno(self) -> int:
        return self.sock.fileno()

    def accept_one(self) -> tuple[socket.socket, dict[str, Any]] | None:
        """Accept a connection and read its request (short timeout: clients send at once)."""
        try:
            conn, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return None
        conn.settimeout(2.0)
        try:
            data = b""
            while not data.endswith(b"\n") and len(data) < 1 << 20:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            req = json.loads(data or b"{}")
            if not isinstance(req, dict):
                raise ValueError("request must be a JSON object")
            return conn, req
        except (OSError, ValueError) as exc:
            reply(conn, {"ok": False, "error": f"bad request: {exc}"})
            return None

    def close(self) -> None:
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
