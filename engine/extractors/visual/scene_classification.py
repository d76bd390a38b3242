"""``scene_classification``: a configured TorchScript classifier on sampled frames.

``model_path`` (a ``torch.jit.save`` file taking float32 RGB NCHW in 0..1 at
``input_size`` x ``input_size`` and returning logits (N, L)) and ``labels_path`` (one label a
line, L lines) must both be set; otherwise the module is skipped with that reason. (ONNX is
not supported: onnxruntime is not installed.) Frames are classified in batches on the
extract device (CUDA when present; batch = ``batch_size`` x the OOM back-off scale).
Outputs per frame softmax probabilities; summary = label with the highest mean probability.
The loaded model is kept per process (keyed by path, modification time and device) and a pool
worker loads it before its first video (``warm_up``).
"""

from __future__ import annotations

import functools
import os
from typing import Any, ClassVar

import cv2
import numpy as np

from engine.errors import InvalidInput
from engine.extractors.base import (
    ArraySpec,
    FrameBatch,
    FrameSpec,
    Module,
    ModuleResult,
    Requirements,
    VideoInfo,
    batch_size,
)


@functools.lru_cache(maxsize=2)
def _load(path: str, mtime_ns: int, device: str) -> Any:
    import torch

    try:
        return torch.jit.load(path, map_location=device).eval()
    except (RuntimeError, ValueError) as exc:
        raise InvalidInput(f"scene_classification: cannot load TorchScript model {path}: {exc}") from None


def load_model(path: str, device: str) -> Any:
    """The TorchScript model at ``path`` on ``device``, loaded once per process (reloaded when
    the file changes)."""
    return _load(path, os.stat(path).st_mtime_ns, device)


class SceneClassification(Module):
    name = "scene_classification"
    version = "1"
    uses_device = True
    defaults: ClassVar[dict[str, Any]] = {"model_path": "", "labels_path": "", "fps": 1.0, "input_size": 224, "batch_size": 32}
    outputs: ClassVar[dict[str, ArraySpec]] = {
        "probs": ArraySpec("float32", ("n", "labels")),
        "top_label": ArraySpec("int64", ("n",)),
        "mean_probs": ArraySpec("float32", ("labels",)),
    }
    summary_keys = ("top_label", "labels")

    def requirements(self) -> Requirements:
        return Requirements(frames=FrameSpec(fps=float(self.params["fps"]), width=max(int(self.params["input_size"]), 64), color="bgr"))

    def applicable(self, info: VideoInfo) -> str | None:
        if not self.params["model_path"] or not self.params["labels_path"]:
            return "no model configured (extract.params.scene_classification.model_path and labels_path)"
        for key in ("model_path", "labels_path"):
            if not os.path.isfile(self.params[key]):
                return f"{key} {self.params[key]!r} does not exist"
        return None

    def warm_up(self, device: str) -> None:
        if self.params["model_path"] and os.path.isfile(self.params["model_path"]):
            load_model(self.params["model_path"], device)

    def begin(self, inputs: Any) -> None:
        super().begin(inputs)
        with open(self.params["labels_path"], encoding="utf-8") as fh:
            self.labels = [ln.strip() for ln in fh if ln.strip()]
        self.model = load_model(self.params["model_path"], inputs.device)
        self.batch = batch_size(int(self.params["batch_size"]), inputs.batch_size_scale)
        self._probs: list[np.ndarray] = []

    def update(self, batch: FrameBatch) -> None:
        import torch

        size = int(self.params["input_size"])
        x = np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)[..., ::-1] for f in batch.frames])
        for s in range(0, len(x), self.batch):
            t = torch.from_numpy(np.ascontiguousarray(x[s:s + self.batch])).to(self.inputs.device)
            t = t.permute(0, 3, 1, 2).float().div_(255.0)
            with torch.inference_mode():
                logits = self.model(t)
            if logits.ndim != 2 or logits.shape[1] != len(self.labels):
                raise InvalidInput(f"scene_classification: model returns {tuple(logits.shape)}, labels file has {len(self.labels)} labels")
            self._probs.append(torch.softmax(logits.float(), dim=1).cpu().numpy().astype(np.float32))

    def finish(self) -> ModuleResult:
        probs = np.concatenate(self._probs) if self._probs else np.zeros((0, len(self.labels)), np.float32)
        mean = probs.mean(axis=0).astype(np.float32) if len(probs) else np.zeros(len(self.labels), np.float32)
        top = int(np.argmax(mean)) if len(probs) else -1
        summary = {"labels": self.labels, "top_label": self.labels[top] if top >= 0 else None,
                   "top_label_prob": round(float(mean[top]), 6) if top >= 0 else None}
        return ModuleResult({"probs": probs, "top_label": probs.argmax(axis=1).astype(np.int64), "mean_probs": mean}, summary)
