"""Failure classes and the classification of exceptions into transient and permanent.

A transient failure (worker lost, timeout, OOM, transient I/O) is retried with backoff; a
permanent one (missing file, not a video, undecodable, zero frames, invalid input) is not.
Unknown exceptions are retried ``retry.unknown_retries`` times, then treated as permanent.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass


class VidopsError(Exception):
    """Base of the failures vidops raises on purpose; carries an error class."""

    error_class = "error"
    transient = False

    def __init__(self, message: str, *, error_class: str | None = None) -> None:
        super().__init__(message)
        if error_class is not None:
            self.error_class = error_class


class PermanentError(VidopsError):
    """Retrying cannot help: bad or unreadable input."""

    error_class = "permanent"
    transient = False


class TransientError(VidopsError):
    """Retrying may help: resources, timing, I/O hiccups."""

    error_class = "transient"
    transient = True


class InvalidInput(PermanentError):
    error_class = "invalid_input"


class MissingFile(PermanentError):
    error_class = "missing_file"


class NotAVideo(PermanentError):
    error_class = "not_video"


class Undecodable(PermanentError):
    error_class = "undecodable"


class ZeroFrames(PermanentError):
    error_class = "zero_frames"


class ArtifactInvalid(PermanentError):
    """An artifact failed validation after extraction."""

    error_class = "artifact_invalid"


class OutOfMemory(TransientError):
    error_class = "oom"


class CudaOutOfMemory(TransientError):
    """CUDA ran out of memory: retried with the pipeline batch size halved."""

    error_class = "cuda_oom"


# errno values that usually clear up on their own (network filesystems, contention).
_TRANSIENT_ERRNOS = {errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.EIO, errno.ETIMEDOUT, errno.ESTALE, errno.ENOSPC}


@dataclass(frozen=True)
class Classified:
    error_class: str
    transient: bool
    known: bool  # False for exceptions vidops cannot classify ("unknown")


def classify(exc: BaseException) -> Classified:
    """Map an exception raised while processing a video to its class."""
    if isinstance(exc, VidopsError):
        return Classified(exc.error_class, exc.transient, True)
    name = type(exc).__name__
    text = str(exc)
    if name == "OutOfMemoryError" or "CUDA out of memory" in text:
        return Classified(CudaOutOfMemory.error_class, True, True)
    if isinstance(exc, MemoryError):
        return Classified(OutOfMemory.error_class, True, True)
    if isinstance(exc, FileNotFoundError):
        return Classified(MissingFile.error_class, False, True)
    if isinstance(exc, TimeoutError):
        return Classified("timeout", True, True)
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return Classified("io_transient", True, True)
    return Classified("unknown", False, False)
