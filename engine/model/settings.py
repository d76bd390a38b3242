"""Settings of the ``[model]`` section: splits, CatBoost training, uncertainty and inference.

Every field is documented and validated through :func:`engine.settings_base.setting`;
those that change a trained model are marked ``affects_results``.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Literal

from engine.settings_base import setting


def parse_cut(value: str | float) -> tuple[str, float | _dt.datetime]:
    """A split cut is a quantile in (0, 1) of snapshot-1 time, or an ISO date (UTC)."""
    if isinstance(value, float):
        if not 0.0 < value < 1.0:
            raise ValueError(f"quantile cut must lie in (0, 1), got {value}")
        return "quantile", value
    try:
        day = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"cut must be a quantile (number) or an ISO date, got {value!r}") from None
    if day.tzinfo is None:
        day = day.replace(tzinfo=_dt.UTC)
    return "date", day


@dataclass(frozen=True)
class ModelSettings:
    split: Literal["time", "age"] = setting(
        "time",
        "How rows are split: 'time' (train < cut1 <= validation < cut2 <= test on snapshot-1 time) "
        "or 'age' (video_age_hours_at_snapshot1 < age_threshold_hours -> train, the rest -> validation/test).",
        affects_results=True,
    )
    cut1: str | float = setting(
        0.7, "Train/validation cut for the time split: a quantile in (0, 1) of snapshot-1 time or a date 'YYYY-MM-DD' (UTC).",
        affects_results=True,
    )
    cut2: str | float = setting(
        0.85, "Validation/test cut for the time split: a quantile in (0, 1) or a date 'YYYY-MM-DD' (UTC).",
        affects_results=True,
    )
    age_threshold_hours: float = setting(
        48.0, "Age split: rows younger than this (hours at snapshot 1) train the model.", min=0.0, affects_results=True,
    )
    age_validation_fraction: float = setting(
        0.5, "Age split: share of the older channels (by a stable hash of channel_key) that go to validation; the rest are test.",
        min=0.0, max=1.0, affects_results=True,
    )
    channel_groups: bool = setting(
        True, "No channel in two splits: a channel belongs to the split of its earliest video; its other rows are dropped and counted.",
        affects_results=True,
    )
    iterations: int = setting(1500, "Maximum boosting iterations per target.", min=1, max=100_000, affects_results=True)
    learning_rate: float = setting(0.05, "CatBoost learning rate.", min=1e-4, max=1.0, affects_results=True)
    depth: int = setting(6, "Tree depth.", min=1, max=16, affects_results=True)
    l2_leaf_reg: float = setting(3.0, "L2 regularisation of leaf values.", min=0.0, affects_results=True)
    early_stopping_rounds: int = setting(
        100, "Stop when the validation RMSE has not improved for this many iterations (best iteration is kept).",
        min=1, affects_results=True,
    )
    refit: bool = setting(
        True, "After early stopping and calibration on validation, refit every model (same seeds, the early-stopped "
        "iteration count best_iteration + 1, not rescaled) and the baselines on train + validation rows; test is "
        "scored and predictions are made with the refit models. Validation metrics, learning curves and the "
        "calibration stay those of the early-stopped fit. Default since a nested evaluation (docs/model.md, Refit).",
        affects_results=True,
    )
    residual_on_baseline: bool = setting(
        True, "Each model learns the residual of the log-linear baseline (fitted on train) and predictions add it "
        "back; trees then only model the deviation from log1p(delta) ~ a*log1p(counter at snapshot 1) + b.",
        affects_results=True,
    )
    ensemble_size: int = setting(
        3, "RMSEWithUncertainty models per target, seeds seed, seed+1, ...; predictions average their means and "
        "combine their variances (mean variance + variance of the means). Files: model_<target>.cbm, "
        "model_<target>.s1.cbm, ...",
        min=1, max=20, affects_results=True,
    )
    point_loss: Literal["uncertainty", "mae"] = setting(
        "mae", "Point prediction: 'uncertainty' uses the mean of the RMSEWithUncertainty models; 'mae' trains "
        "extra models with loss MAE (median of the residual; as many as ensemble_size, files model_<target>.point*.cbm) "
        "whose average is the point prediction, the RMSEWithUncertainty models still give the sd.",
        affects_results=True,
    )
    use_text_features: bool = setting(
        False, "Feed title/tags to CatBoost as text features (measured: see docs/model.md, Benchmarks).",
        affects_results=True,
    )
    seed: int = setting(0, "Random seed of every model.", min=0, affects_results=True)
    thread_count: int = setting(
        2, "CPU threads CatBoost uses; fixed (not 'all cores') so retraining is reproducible.", min=1, max=1024,
        affects_results=True,
    )
    task_type: Literal["auto", "cpu", "gpu"] = setting(
        "auto", "Training device: 'auto' uses CatBoost's GPU training when a CUDA device is present, else the CPU.",
    )
    interval_level: float = setting(
        0.8, "Central prediction-interval level (low/high); its width is calibrated on the validation split.",
        min=0.05, max=0.99, affects_results=True,
    )
    confidence_tolerance: float = setting(
        0.5, "Confidence = P(|log1p error| <= this); 0.5 means the delta lies within a factor e^0.5 of the prediction.",
        min=0.01, max=5.0, affects_results=True,
    )
    progress_every: int = setting(10, "Emit a train_progress event at most every this many iterations.", min=1)
    progress_min_interval_s: float = setting(0.25, "... and at most once per this many seconds per target.", min=0.0)
    artifacts_dir: str = setting("", "Where runs go; empty means <workspace>/artifacts.")

    def check_settings(self) -> tuple[str, str] | None:
        """Cross-field check (engine.settings_base hook): (key, message) or None."""
        try:
            kind1, v1 = parse_cut(self.cut1)
            kind2, v2 = parse_cut(self.cut2)
        except ValueError as exc:
            return "model.cut1/cut2", str(exc)
        if kind1 != kind2:
            return "model.cut2", "cut1 and cut2 must both be quantiles or both be dates"
        if not v1 < v2:  # type: ignore[operator]
            return "model.cut2", f"cut1 ({self.cut1}) must be before cut2 ({self.cut2})"
        return None
