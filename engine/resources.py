"""How many threads one worker may use: the machine's cores shared among the pool's workers.

The supervisor sets ``VIDOPS_THREADS`` for each worker (cores // workers, at least 1), so two
workers on two cores do not each start a decoder thread per core and fight for them. Outside
a pool (``vidops extract``) every core is available.
"""

from __future__ import annotations

import os

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
