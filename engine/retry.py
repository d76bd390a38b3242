"""Retry policy: which failures are retried, after what delay, with what batch-size scale."""

from __future__ import annotations

import random
from dataclasses import dataclass

from engine.config import RetrySettings

NOT_COUNTED = frozenset({"interrupted"})  # a stop is not the video's fault


@dataclass(frozen=True)
class Decision:
    retry: bool
    delay_s: float = 0.0
    batch_size_scale: float = 1.0
    counted: bool = True


def decide(cfg: RetrySettings, *, error_class: str, transient: bool, known: bool,
           failures_before: int, batch_size_scale: float, rng: random.Random | None = None) -> Decision:
    """``failures_before``: counted failures of this video before the current one."""
    if error_class in NOT_COUNTED:
        return Decision(retry=False, counted=False, batch_size_scale=batch_size_scale)
    failures = failures_before + 1
    if not known:
        retry = failures <= cfg.unknown_retries
    elif transient:
        retry = failures < cfg.max_attempts
    else:
        retry = False
    scale = max(batch_size_scale / 2, 0.0) if error_class == "cuda_oom" else batch_size_scale
    if not retry:
        return Decision(False, batch_size_scale=scale)
    base = min(cfg.backoff_base_s * 2 ** (failures - 1), cfg.backoff_max_s)
    jitter = (rng or random).uniform(0, cfg.jitter * base)
    return Decision(True, round(base + jitter, 3), scale)
