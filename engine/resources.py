"""How many threads one worker may use: the machine's cores shared among the pool's workers.

The supervisor sets ``VIDOPS_THREADS`` for each worker (cores // workers, at least 1), so two
workers on two cores do not each start a decoder thread per core and fight for them. Outside
a pool (``vidops extract``) every core is available.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

ENV = "VIDOPS_THREADS"


def worker_threads() -> int:
    raw = os.environ.get(ENV, "")
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return os.cpu_count() or 1


def decoder_threads() -> int:
    """Thread count for a video decoder: the pool's share, or 0 (FFmpeg's own choice) outside a pool."""
    raw = os.environ.get(ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else 0


def thread_env(workers: int) -> dict[str, str]:
    """Environment for a worker of a pool of ``workers`` processes (an explicit VIDOPS_THREADS wins)."""
    raw = os.environ.get(ENV, "")
    n = raw if raw.isdigit() and int(raw) > 0 else str(max(1, (os.cpu_count() or 1) // max(workers, 1)))
    return {ENV: n, "OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n}


def apply_thread_limits() -> None:
    """Apply the limit to libraries that read it at run time rather than from the environment."""
    n = worker_threads()
    try:
        import cv2

        cv2.setNumThreads(n)
    except ImportError:
        pass


_blas: Any = None


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS (OpenBLAS, MKL) on one thread while a video is extracted.

    The extraction already runs its own threads (decoder, audio, analysis) on the worker's
    cores; BLAS worker threads on top only spin-wait for the next small matrix product (the
    mel projection, the chroma fold) and take CPU from the decoder: on the 2-core bench the
    webm extraction used 0.90 s of CPU with one BLAS thread and 1.00 s with two, at the same
    results (docs/extractors.md, "Threads"). BLAS thread counts are process-wide, so this is
    entered once around a whole extraction; the previous limits come back afterwards."""
    global _blas
    try:
        if _blas is None:
            from threadpoolctl import ThreadpoolController

            _blas = ThreadpoolController()  # scanning the loaded libraries once: ~1 ms
        limiter = _blas.limit(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with limiter:
        yield
