"""A progress inbox the cluster will not run fails the batch at start (BackendUnavailable), instead of
every video running to its end and failing as 'results did not reach the driver', three times each.
Seen for real with pool.ray_address = "auto" and a driver whose RAY_AUTH_MODE differed from the
cluster's: the inbox actor died at once while tasks still ran. A fake Ray stands in for the cluster."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from engine.backends import BackendUnavailable
from engine.config import Settings


class _ActorDiedError(Exception):
    pass


class _FakeRay:
    def __init__(self, inbox_works: bool) -> None:
        self.inbox_works = inbox_works
        self.killed: list[Any] = []
        self.shut = False

    def get_runtime_context(self) -> Any:
        raise RuntimeError("no node")  # as with Ray Client: no node affinity for the inbox

    def remote(self, **_: Any) -> Any:
        def wrap(fn: Any) -> Any:
            flush = SimpleNamespace(remote=lambda: "flush-ref")
            return SimpleNamespace(remote=lambda *a: SimpleNamespace(flush=flush))
        return wrap

    def get(self, ref: Any, timeout: float | None = None) -> Any:
        if not self.inbox_works:
            raise _ActorDiedError("The actor died unexpectedly before finishing this task.\n\tclass_name: Inbox")
        return True

    def cluster_resources(self) -> dict[str, float]:
        return {"CPU": 2.0}

    def kill(self, actor: Any) -> None:
        self.killed.append(actor)

    def shutdown(self) -> None:
        self.shut = True


def _backend(monkeypatch: pytest.MonkeyPatch, fake: _FakeRay, settings: Settings | None = None,
             seen: list[str] | None = None) -> Any:
    pytest.importorskip("ray")
    from engine.backends import ray_backend

    def connect(address: str) -> tuple[_FakeRay, bool]:
        (seen if seen is not None else []).append(address)
        return fake, True

    monkeypatch.setattr(ray_backend, "connect", connect)
    monkeypatch.delenv("VIDOPS_FAULTS", raising=False)
    sup = SimpleNamespace(settings=settings or Settings(), alert=lambda a: None)
    return ray_backend.RayBackend(sup, 2)  # type: ignore[arg-type]


def test_dead_inbox_fails_the_backend_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeRay(inbox_works=False)
    with pytest.raises(BackendUnavailable) as info:
        _backend(monkeypatch, fake)
    msg = str(info.value)
    assert "progress actor" in msg and "_ActorDiedError: The actor died unexpectedly" in msg
    assert "RAY_AUTH_MODE" in msg and "\n" not in msg
    assert fake.killed and fake.shut  # the Ray it started is shut down again


def test_live_inbox_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _FakeRay(inbox_works=True)
    backend = _backend(monkeypatch, fake)
    assert backend.has_idle() and not fake.shut


def test_vidops_ray_address_overrides_the_batch_address(monkeypatch: pytest.MonkeyPatch) -> None:
    """A resumed batch keeps its frozen pool.ray_address; VIDOPS_RAY_ADDRESS points it elsewhere."""
    from engine.config import apply_overrides

    frozen = apply_overrides(Settings(), {"pool.ray_address": "10.1.2.3:6379"})
    seen: list[str] = []
    monkeypatch.delenv("VIDOPS_RAY_ADDRESS", raising=False)
    _backend(monkeypatch, _FakeRay(inbox_works=True), frozen, seen)
    monkeypatch.setenv("VIDOPS_RAY_ADDRESS", "head:6380")
    _backend(monkeypatch, _FakeRay(inbox_works=True), frozen, seen)
    monkeypatch.setenv("VIDOPS_RAY_ADDRESS", "local")
    _backend(monkeypatch, _FakeRay(inbox_works=True), frozen, seen)
    assert seen == ["10.1.2.3:6379", "head:6380", ""]
