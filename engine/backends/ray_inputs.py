"""How input videos reach Ray workers: a path every node mounts, or bytes through the object store.

``VIDOPS_RAY_SHIP`` picks the policy:

* ``auto`` (default): the task first tries the path; when the file is not visible on its node
  (missing, or different size/content), the driver resubmits the same attempt with the file's
  bytes put in the object store, if it is at most ``VIDOPS_RAY_SHIP_MAX_MB`` (default 256).
* ``always``: ship every file under the limit up front (clusters without shared storage).
* ``never``: paths only; an invisible file fails as ``missing_file``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

MODES = ("auto", "always", "never")
ENV_MODE, ENV_MAX_MB = "VIDOPS_RAY_SHIP", "VIDOPS_RAY_SHIP_MAX_MB"
DEFAULT_MAX_MB = 256.0


@dataclass(frozen=True)
class ShipPolicy:
    mode: str = "auto"
    max_bytes: int = int(DEFAULT_MAX_MB * 2**20)

    @classmethod
    def from_env(cls, default_mode: str = "auto", default_max_mb: float = DEFAULT_MAX_MB) -> ShipPolicy:
        """``pool.ray_ship``/``pool.ray_ship_max_mb`` as defaults; the environment overrides them."""
        mode = os.environ.get(ENV_MODE, default_mode).strip().lower() or default_mode
        if mode not in MODES:
            raise ValueError(f"{ENV_MODE} must be one of {', '.join(MODES)}, got {mode!r}")
        raw = os.environ.get(ENV_MAX_MB, "").strip()
        try:
            max_mb = float(raw) if raw else default_max_mb
        except ValueError:
            raise ValueError(f"{ENV_MAX_MB} must be a number of MiB, got {raw!r}") from None
        return cls(mode, int(max_mb * 2**20))

    def describe(self) -> str:
        return f"{ENV_MODE}={self.mode}, limit {self.max_bytes / 2**20:g} MiB"


def read_input(path: str, max_bytes: int, probe_only: bool = False) -> bytes | None:
    """The file's bytes when it can be shipped (readable, at most ``max_bytes``), else None.

    ``probe_only`` checks the size without reading (returns ``b""`` when it could be shipped).
    """
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            return None
        if probe_only:
            return b""
        with open(path, "rb") as fh:
            return fh.read()
    except OSError:
        return None
