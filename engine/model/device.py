"""Choosing CatBoost's training device: GPU when asked for or (``auto``) when CUDA is present."""

from __future__ import annotations

import os
from functools import lru_cache


@lru_cache(maxsize=1)
def cuda_devices() -> int:
    if not any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg")):
        return 0  # no NVIDIA device node: skip CatBoost's noisy CUDA probe
    try:
        from catboost.utils import get_gpu_device_count

        return int(get_gpu_device_count())
    except Exception:  # noqa: BLE001 - no CUDA runtime means no GPU
        return 0


class DeviceUnavailable(RuntimeError):
    """``task_type = "gpu"`` on a machine where CatBoost sees no CUDA device (a config error)."""


def resolve(task_type: str) -> str:
    """'CPU' or 'GPU' for CatBoost; 'gpu' without a CUDA device is an error."""
    if task_type == "cpu":
        return "CPU"
    if task_type == "gpu":
        if cuda_devices() == 0:
            raise DeviceUnavailable("model.task_type = 'gpu' but CatBoost sees no CUDA device; "
                                    "set [model] task_type = \"auto\" (GPU when present) or \"cpu\"")
        return "GPU"
    return "GPU" if cuda_devices() > 0 else "CPU"
