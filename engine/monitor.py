"""System sampling: CPU (total and per core), RAM, free disk, per-worker RSS/CPU (psutil) and
per-GPU utilization, memory, temperature and power (nvidia-ml-py). Without NVML or an NVIDIA
GPU the GPU part says so and everything else keeps working.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import psutil

NO_GPU = "no NVIDIA GPU / NVML not found"


@lru_cache(maxsize=1)
def _nvml() -> Any | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        return pynvml
    except Exception:  # noqa: BLE001 - NVMLError, ImportError, missing driver: all mean "no GPU"
        return None


def gpu_count() -> int:
    nv = _nvml()
    if nv is None:
        return 0
    try:
        return int(nv.nvmlDeviceGetCount())
    except Exception:  # noqa: BLE001
        return 0


def sample_gpus() -> tuple[list[dict[str, Any]], str | None]:
    """(per-GPU readings, reason when there are none)."""
    nv = _nvml()
    if nv is None:
        return [], NO_GPU
    gpus = []
    try:
        for i in range(nv.nvmlDeviceGetCount()):
            h = nv.nvmlDeviceGetHandleByIndex(i)
            g: dict[str, Any] = {"index": i, "name": _safe(lambda h=h: nv.nvmlDeviceGetName(h))}
            util = _safe(lambda h=h: nv.nvmlDeviceGetUtilizationRates(h))
            g["util_pct"] = getattr(util, "gpu", None)
            mem = _safe(lambda h=h: nv.nvmlDeviceGetMemoryInfo(h))
            g["mem_used_mb"] = round(mem.used / 2**20) if mem else None
            g["mem_total_mb"] = round(mem.total / 2**20) if mem else None
            g["temp_c"] = _safe(lambda h=h: nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU))
            power = _safe(lambda h=h: nv.nvmlDeviceGetPowerUsage(h))
            g["power_w"] = round(power / 1000, 1) if power is not None else None
            gpus.append(g)
    except Exception as exc:  # noqa: BLE001 - keep running on any NVML failure
        return gpus, f"NVML error: {exc}"
    return gpus, None if gpus else NO_GPU


def _safe(fn: Any) -> Any:
    try:
        value = fn()
        return value.decode() if isinstance(value, bytes) else value
    except Exception:  # noqa: BLE001 - one unsupported query must not hide the others
        return None


class Monitor:
    """Samples the machine and a set of worker pids; keeps psutil handles between samples."""

    def __init__(self, disk_path: str, *more_disk_paths: str) -> None:
        # The workspace and, when configured elsewhere, the result store: the NPZs fill the
        # latter, so watching only the workspace missed the disk that actually runs full.
        self.disk_paths = [disk_path, *more_disk_paths]
        self._procs: dict[int, psutil.Process] = {}
        psutil.cpu_percent(percpu=True)  # prime: the first reading is meaningless otherwise

    def sample(self, worker_pids: dict[int, int]) -> dict[str, Any]:
        per_core = psutil.cpu_percent(percpu=True)
        vm = psutil.virtual_memory()
        disk_free_gb, disk_path = _lowest_free(self.disk_paths)
        workers = {}
        for wid, pid in worker_pids.items():
            proc = self._procs.get(pid)
            try:
                if proc is None:
                    proc = self._procs[pid] = psutil.Process(pid)
                    proc.cpu_percent()
                workers[str(wid)] = {"pid": pid, "rss_mb": round(proc.memory_info().rss / 2**20, 1),
                                     "cpu_pct": round(proc.cpu_percent(), 1)}
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                self._procs.pop(pid, None)
        for pid in set(self._procs) - set(worker_pids.values()):
            self._procs.pop(pid, None)
        gpus, gpu_note = sample_gpus()
        return {
            "cpu_pct": round(sum(per_core) / max(len(per_core), 1), 1),
            "cpu_per_core": [round(c, 1) for c in per_core],
            "ram_used_pct": round(vm.percent, 1),
            "ram_used_gb": round((vm.total - vm.available) / 2**30, 2),
            "ram_total_gb": round(vm.total / 2**30, 2),
            "disk_free_gb": disk_free_gb,
            "disk_path": disk_path,
            "workers": workers,
            "gpus": gpus,
            "gpu_note": gpu_note,
            "load_avg": list(os.getloadavg()),
        }


def _lowest_free(paths: list[str]) -> tuple[float | None, str | None]:
    """(free GiB, path) of the fullest of ``paths``; a path not created yet counts as its parent."""
    best: tuple[float | None, str | None] = (None, None)
    for path in paths:
        probe = path
        while not os.path.exists(probe) and os.path.dirname(probe) != probe:
            probe = os.path.dirname(probe)
        try:
            free = round(psutil.disk_usage(probe).free / 2**30, 2)
        except OSError:
            continue
        if best[0] is None or free < best[0]:
            best = (free, path)
    return best
