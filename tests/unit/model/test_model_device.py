"""Device choice: auto falls back to the CPU without CUDA; 'gpu' without CUDA is an error."""

from __future__ import annotations

import pytest

from engine.model import device


def test_auto_and_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(device, "cuda_devices", lambda: 0)
    assert device.resolve("auto") == "CPU" and device.resolve("cpu") == "CPU"
    with pytest.raises(RuntimeError):
        device.resolve("gpu")
    monkeypatch.setattr(device, "cuda_devices", lambda: 1)
    assert device.resolve("auto") == "GPU"
