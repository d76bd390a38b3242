"""SIGTERM takes the Ctrl-C path: exit 130 after the command's own cleanup, handler restored."""

from __future__ import annotations

import os
import signal
import time

import pytest

import console.cli as cli


def test_sigterm_is_an_interrupt_and_the_handler_is_restored(monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    cleaned: list[str] = []

    def killed_mid_command(args: object) -> None:
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler interrupts this
            raise AssertionError("SIGTERM did not interrupt the command")
        finally:
            cleaned.append("finally ran")

    def outer(signum: int, frame: object) -> None:  # stands in for the default (which would kill pytest)
        raise RuntimeError("SIGTERM reached the handler installed before main()")

    previous = signal.signal(signal.SIGTERM, outer)
    try:
        _run(monkeypatch, capsys, killed_mid_command, cleaned)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], killed_mid_command: object,
         cleaned: list[str]) -> None:
    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(cli, "make_context", killed_mid_command)
    t0 = time.monotonic()
    assert cli.main(["list"]) == cli.EXIT_INTERRUPTED
    assert time.monotonic() - t0 < 4
    assert cleaned == ["finally ran"]
    assert "interrupted" in capsys.readouterr().err
    assert signal.getsignal(signal.SIGTERM) == before
