"""Control commands the live supervisor accepts (explicit registry; each is logged as an event)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.supervisor import Supervisor


def _status(sup: Supervisor) -> dict[str, Any]:
    return {"state": "paused" if sup.paused else ("stopping" if sup.stopping else "running"),
            "counts": sup.state.counts(), "workers": sup.backend.describe() if sup.backend else []}


def _pause(sup: Supervisor) -> dict[str, Any]:
    if not sup.paused:
        sup.paused = True
        sup.emit("batch_paused", state="paused")
    return {"paused": True}


def _resume(sup: Supervisor) -> dict[str, Any]:
    if sup.paused:
        sup.paused = False
        sup.emit("batch_resumed", state="running")
    return {"paused": False}


def _stop(sup: Supervisor, now: bool = False) -> dict[str, Any]:
    sup.request_stop("now" if now else "graceful")
    return {"stopping": sup.stopping}


def _retry(sup: Supervisor, keys: list[str] | None = None, all_failed: bool = False,
           include_permanent: bool = False) -> dict[str, Any]:
    return {"requeued": sup.retry_videos(list(keys or []), bool(all_failed), bool(include_permanent))}


def _set_workers(sup: Supervisor, n: int) -> dict[str, Any]:
    if not isinstance(n, int) or n < 1 or n > 512:
        raise ValueError(f"workers must be an integer from 1 to 512, got {n!r}")
    assert sup.backend is not None
    sup.backend.set_workers(n)
    return {"workers": n}


COMMANDS: dict[str, Callable[..., dict[str, Any]]] = {
    "status": _status,
    "pause": _pause,
    "resume": _resume,
    "stop": _stop,
    "retry": _retry,
    "set_workers": _set_workers,
}
