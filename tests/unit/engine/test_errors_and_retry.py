"""Error classification and the retry policy."""

from __future__ import annotations

import errno
import random

import pytest

from engine import retry
from engine.config import RetrySettings
from engine.errors import CudaOutOfMemory, NotAVideo, Undecodable, classify


class OutOfMemoryError(RuntimeError):
    """Stands in for torch.cuda.OutOfMemoryError (matched by name, so torch is not needed)."""


@pytest.mark.parametrize(
    ("exc", "cls", "transient", "known"),
    [
        (NotAVideo("x"), "not_video", False, True),
        (Undecodable("x"), "undecodable", False, True),
        (CudaOutOfMemory("x"), "cuda_oom", True, True),
        (OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB"), "cuda_oom", True, True),
        (MemoryError(), "oom", True, True),
        (FileNotFoundError(2, "nope"), "missing_file", False, True),
        (OSError(errno.EIO, "io"), "io_transient", True, True),
        (TimeoutError(), "timeout", True, True),
        (ZeroDivisionError(), "unknown", False, False),
    ],
)
def test_classify(exc: BaseException, cls: str, transient: bool, known: bool) -> None:
    c = classify(exc)
    assert (c.error_class, c.transient, c.known) == (cls, transient, known)


def test_transient_retried_until_max_attempts_with_backoff() -> None:
    cfg = RetrySettings(max_attempts=3, backoff_base_s=1.0, backoff_max_s=10.0, jitter=0.0)
    d1 = retry.decide(cfg, error_class="worker_lost", transient=True, known=True, failures_before=0, batch_size_scale=1)
    d2 = retry.decide(cfg, error_class="worker_lost", transient=True, known=True, failures_before=1, batch_size_scale=1)
    d3 = retry.decide(cfg, error_class="worker_lost", transient=True, known=True, failures_before=2, batch_size_scale=1)
    assert (d1.retry, d1.delay_s) == (True, 1.0) and (d2.retry, d2.delay_s) == (True, 2.0) and not d3.retry


def test_jitter_bounded() -> None:
    cfg = RetrySettings(backoff_base_s=4.0, jitter=0.5)
    delays = {retry.decide(cfg, error_class="timeout", transient=True, known=True, failures_before=0,
                           batch_size_scale=1, rng=random.Random(i)).delay_s for i in range(20)}
    assert all(4.0 <= d <= 6.0 for d in delays) and len(delays) > 1


def test_permanent_unknown_oom_and_interrupt() -> None:
    cfg = RetrySettings(unknown_retries=1)
    assert not retry.decide(cfg, error_class="not_video", transient=False, known=True, failures_before=0, batch_size_scale=1).retry
    assert retry.decide(cfg, error_class="unknown", transient=False, known=False, failures_before=0, batch_size_scale=1).retry
    assert not retry.decide(cfg, error_class="unknown", transient=False, known=False, failures_before=1, batch_size_scale=1).retry
    oom = retry.decide(cfg, error_class="cuda_oom", transient=True, known=True, failures_before=0, batch_size_scale=0.5)
    assert oom.retry and oom.batch_size_scale == 0.25
    stop = retry.decide(cfg, error_class="interrupted", transient=True, known=True, failures_before=0, batch_size_scale=1)
    assert not stop.retry and not stop.counted
