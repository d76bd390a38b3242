"""Wake the supervisor's selector as soon as a Ray task ends, instead of at its next 0.1 s tick.

A daemon thread blocks in ``ray.wait`` on the refs in flight and writes a byte to a pipe when one
becomes ready; the pipe is registered in the supervisor's selector, so the loop runs ``check``
at once and the slot is refilled within milliseconds. Everything else stays on the main thread.
"""

from __future__ import annotations

import contextlib
import os
import threading
from typing import Any

WAIT_S = 0.2  # how long one ray.wait blocks, so new refs and stop() are picked up


class Waker:
    def __init__(self, ray: Any) -> None:
        self._ray = ray
        self.fd, self._w = os.pipe()
        os.set_blocking(self.fd, False)
        os.set_blocking(self._w, False)
        self._lock = threading.Lock()
        self._refs: list[Any] = []
        self._signalled: set[str] = set()  # refs already reported ready (until they leave the watch list)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vidops-ray-waker", daemon=True)
        self._thread.start()

    def watch(self, refs: list[Any]) -> None:
        """The refs in flight now (called by the main thread every loop iteration)."""
        with self._lock:
            self._refs = list(refs)

    def drain(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self.fd, 4096):
                pass

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                live = {r.hex(): r for r in self._refs}
            self._signalled &= set(live)
            pending = [r for h, r in live.items() if h not in self._signalled]
            if not pending:
                self._stop.wait(0.02)
                continue
            try:
                ready, _ = self._ray.wait(pending, num_returns=1, timeout=WAIT_S, fetch_local=False)
            except Exception:  # noqa: BLE001 - Ray shutting down or a lost connection: the tick still polls
                self._stop.wait(WAIT_S)
                continue
            if ready:
                self._signalled.update(r.hex() for r in ready)
                with contextlib.suppress(BlockingIOError, OSError):
                    os.write(self._w, b"x")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=WAIT_S * 5)
        for fd in (self.fd, self._w):
            with contextlib.suppress(OSError):
                os.close(fd)
