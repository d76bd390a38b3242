"""Training: one CatBoost ``RMSEWithUncertainty`` regressor per (metric, horizon).

:func:`train` reads a dataset directory, splits it (:mod:`engine.model.splits`), fits each
target on its rows with ``mask == 1`` with early stopping on validation, calibrates
intervals and confidence on validation, optionally (``refit``) refits every model and the
baselines on train + validation with the early-stopped tree counts, scores validation (the
early-stopped models) and test (the final models) next to the baselines and writes the run (:mod:`engine.model.artifacts`). Progress goes to ``on_event(dict)``:
``train_started``, ``train_progress`` {target, iteration, train_loss, val_loss} (throttled),
``train_target_done`` {target, metrics}, ``train_target_skipped`` {target, reason},
``train_finished`` {run_dir, metrics, skipped} and ``train_failed`` {message}. Losses are RMSE on the log1p scale.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from catboost import CatBoostError, CatBoostRegressor

from engine.atomic import atomic_write_json, atomic_write_text
from engine.events import EVENT_SCHEMA_VERSION
from engine.model import artifacts, baselines, calibration, device, metrics, predictor, report
from engine.model.data import (
    Dataset,
    FeatureSpec,
    Target,
    feature_spec,
    has_target,
    load_dataset,
    prepare,
    target_values,
    targets_of,
    usable_text,
)
from engine.model.predict import PREDICTION_SCHEMA_VERSION
from engine.model.settings import ModelSettings
from engine.model.splits import SPLITS, make_split
from engine.version import __version__, git_commit

EventFn = Callable[[dict[str, Any]], None]
LOSS = "RMSE"
OFFSET_BASELINE = "loglinear"


class _Progress:
    """CatBoost callback: throttled ``train_progress`` events."""

    def __init__(self, target: str, on_event: EventFn, every: int, min_interval_s: float) -> None:
        self.target, self.on_event, self.every, self.min_interval = target, on_event, every, min_interval_s
        self.last = -np.inf
        self.sent = -1  # the last iteration sent

    def after_iteration(self, info: Any) -> bool:
        now = time.monotonic()
        # CatBoost counts finished iterations (1, 2, ...); learning_curves.jsonl, the GPU replay
        # and best_iteration number them from 0, and so do the events.
        it = int(info.iteration) - 1
        if it % self.every == 0 and now - self.last >= self.min_interval:
            self.last, self.sent = now, it
            learn = info.metrics.get("learn", {}).get(LOSS, [None])[-1]
            val = info.metrics.get("validation", {}).get(LOSS, [None])[-1]
            self.on_event({"type": "train_progress", "target": self.target, "iteration": it,
                           "train_loss": learn, "val_loss": val})
        return True


class NothingToTrain(ValueError):
    """Every target was skipped (too few rows with a target in the training or validation split)."""


@dataclass
class TrainResult:
    run_dir: Path
    metrics: dict[str, Any]
    seconds: float


def _estimator(settings: ModelSettings, task_type: str, seed: int | None = None,
               loss: str = "RMSEWithUncertainty", iterations: int | None = None) -> CatBoostRegressor:
    """Early stopping on the eval set, or (``iterations`` given: a refit) exactly that many trees."""
    params: dict[str, Any] = dict(
        loss_function=loss, eval_metric=LOSS if loss == "RMSEWithUncertainty" else loss,
        iterations=settings.iterations if iterations is None else iterations,
        learning_rate=settings.learning_rate, depth=settings.depth, l2_leaf_reg=settings.l2_leaf_reg,
        random_seed=settings.seed if seed is None else seed, nan_mode="Min", allow_writing_files=False,
        verbose=False, task_type=task_type,
    )
    if iterations is None:
        params.update(od_type="Iter", od_wait=settings.early_stopping_rounds, use_best_model=True)
    if task_type == "CPU":
        params["thread_count"] = settings.thread_count
    return CatBoostRegressor(**params)


def _fit_model(settings: ModelSettings, task_type: str, seed: int, loss: str, train_pool: Any, val_pool: Any,
               progress: _Progress | None, target: Target, on_event: EventFn,
               iterations: int | None = None) -> CatBoostRegressor:
    model = _estimator(settings, task_type, seed, loss, iterations)
    callbacks = [progress] if progress is not None and task_type == "CPU" else None
    try:
        model.fit(train_pool, eval_set=val_pool, callbacks=callbacks)
    except CatBoostError as exc:
        if task_type == "CPU":
            raise
        # CatBoost's GPU build lacks some losses/options on some versions: retrain this model on the CPU.
        on_event({"type": "train_device_fallback", "target": target.name, "message": str(exc)[:300]})
        model = _estimator(settings, "CPU", seed, loss, iterations)
        model.fit(train_pool, eval_set=val_pool, callbacks=[progress] if progress is not None else None)
    return model


Plan = list[tuple[str, int, int, str]]  # (kind "" or "point", member index, seed, loss)


def _plan(settings: ModelSettings) -> Plan:
    seeds = [settings.seed + i for i in range(settings.ensemble_size)]
    plan = [("", i, s, "RMSEWithUncertainty") for i, s in enumerate(seeds)]
    if settings.point_loss == "mae":
        plan += [("point", i, s, "MAE") for i, s in enumerate(seeds)]
    return plan


def _ensemble(plan: Plan, models: list[CatBoostRegressor]) -> predictor.Ensemble:
    return predictor.Ensemble([m for p, m in zip(plan, models, strict=True) if not p[0]],
                              [m for p, m in zip(plan, models, strict=True) if p[0]])


def _save(plan: Plan, models: list[CatBoostRegressor], target: Target, run_dir: Path,
          n_rows: int) -> dict[str, list[str]] | str:
    """Write the models; a few rows fitted exactly collapse the variance and CatBoost then saves a
    model it cannot load back: such a target is skipped (its files removed)."""
    files: dict[str, list[str]] = {"members": [], "point": []}
    for (kind, i, _, _), m in zip(plan, models, strict=True):
        name = artifacts.model_file(target, i, kind)
        artifacts.save_model(m, run_dir / name)
        files["point" if kind else "members"].append(name)
        try:
            CatBoostRegressor().load_model(str(run_dir / name), format="cbm")
        except CatBoostError as exc:
            for f in files["members"] + files["point"]:
                (run_dir / f).unlink(missing_ok=True)
            return f"degenerate model (train {n_rows} rows, the saved model does not load back: {str(exc)[-60:]})"
    return files


def _fit_target(
    ds: Dataset, x: Any, spec: FeatureSpec, labels: np.ndarray, target: Target, settings: ModelSettings,
    task_type: str, run_dir: Path, on_event: EventFn,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], list[dict[str, Any]], dict[str, list[str]]] | str:
    frame = ds.frame
    y_all = target_values(frame, target)
    has = has_target(frame, target)
    idx = {name: np.flatnonzero(has & (labels == name)) for name in SPLITS}
    if len(idx["train"]) < 2 or len(idx["validation"]) < 1:
        why = f"too few rows (train {len(idx['train'])}, validation {len(idx['validation'])})"
        # refit takes its iteration count and calibration from the early-stopped fit, so it cannot rescue these
        return why + ("; refit needs an early-stopped fit first" if settings.refit else "")
    tr, va = idx["train"], idx["validation"]
    base = baselines.fit_all(x.iloc[tr], y_all[tr], target.metric)
    offset_name = OFFSET_BASELINE if settings.residual_on_baseline else None

    def pool(rows: np.ndarray, params: dict[str, Any]) -> Any:
        off = baselines.predict(offset_name, x.iloc[rows], params[offset_name]) if offset_name else 0.0
        return predictor.make_pool(x.iloc[rows], spec, y_all[rows] - off)

    off_tr = baselines.predict(offset_name, x.iloc[tr], base[offset_name]) if offset_name else 0.0
    labels_tr = y_all[tr] - off_tr
    if np.ptp(labels_tr) <= 1e-9:  # CatBoost refuses ("All train targets are equal"): nothing to learn
        return (f"the training target is constant ({len(tr)} rows, log1p(delta) "
                f"{'- baseline ' if offset_name else ''}= {float(labels_tr[0]):.4g})")
    progress = _Progress(target.name, on_event, settings.progress_every, settings.progress_min_interval_s)
    plan = _plan(settings)
    train_pool, val_pool = pool(tr, base), pool(va, base)
    models = [_fit_model(settings, task_type, seed, loss, train_pool, val_pool,
                         progress if (kind, i) == ("", 0) else None, target, on_event)
              for kind, i, seed, loss in plan]
    model = models[0]
    ens = _ensemble(plan, models)
    evals = model.get_evals_result()
    learn, val = evals.get("learn", {}).get(LOSS, []), evals.get("validation", {}).get(LOSS, [])
    curve = [{"target": target.name, "iteration": i, "train_loss": round(float(a), 6),
              "val_loss": round(float(b), 6)} for i, (a, b) in enumerate(zip(learn, val, strict=False))]
    if progress.last == -np.inf:  # no callbacks ran (GPU): replay the curve, thinned
        for i in range(0, len(curve), settings.progress_every):  # curve[i] is iteration i
            on_event({"type": "train_progress", **curve[i]})
            progress.sent = i
    # The final iteration always goes out: a target fitted within the throttle interval would
    # otherwise be one point on the console's chart (no line) until the run is written.
    if len(curve) - 1 > progress.sent:
        on_event({"type": "train_progress", **curve[-1]})
    mu_v, sd_v = predictor.raw_predict(ens, x.iloc[va], spec)
    off_v = baselines.predict(offset_name, x.iloc[va], base[offset_name]) if offset_name else 0.0
    cal = calibration.fit(y_all[va], mu_v + off_v, sd_v, settings.interval_level, settings.confidence_tolerance,
                          offset_name)
    scores: dict[str, Any] = {"best_iteration": int(model.get_best_iteration() or 0),
                              "rows": {name: int(len(i)) for name, i in idx.items()}}
    final, final_base, n_fit = ens, base, len(tr)
    if settings.refit:  # same seeds, each model's early-stopped tree count, on train + validation
        tv = np.sort(np.concatenate([tr, va]))
        final_base = baselines.fit_all(x.iloc[tv], y_all[tv], target.metric)
        iters = [int(m.get_best_iteration() or 0) + 1 for m in models]
        tv_pool = pool(tv, final_base)
        final = _ensemble(plan, [_fit_model(settings, task_type, seed, loss, tv_pool, None, None, target, on_event, n)
                                 for (_, _, seed, loss), n in zip(plan, iters, strict=True)])
        n_fit = len(tv)
        scores["refit"] = {"rows": int(n_fit), "iterations": iters}
    files = _save(plan, final.members + final.point, target, run_dir, n_fit)
    if isinstance(files, str):
        return files
    age = frame.get("video_age_hours_at_snapshot1")
    ages = np.asarray(age, dtype=float) if age is not None else np.full(len(frame), np.nan)
    for name, use, params in (("validation", ens, base), ("test", final, final_base)):
        rows = idx[name]
        if len(rows) == 0:
            scores[name] = None
            continue
        pred = predictor.predict(use, x.iloc[rows], spec, cal, params)
        base_preds = {b: baselines.predict(b, x.iloc[rows], p) for b, p in params.items()}
        y = y_all[rows]
        scores[name] = metrics.score(y, pred.mean, pred.low, pred.high, pred.confidence, ages[rows], base_preds,
                                     settings.confidence_tolerance)
        if name == "test":
            hit = np.abs(pred.mean - y) <= settings.confidence_tolerance
            scores["calibration_test"] = metrics.reliability(pred.confidence, hit)
    return scores, final_base, cal, curve, files


def _config_sections(settings: ModelSettings, ds: Dataset, run_id: str, spec: FeatureSpec, task_type: str) -> dict[str, dict[str, Any]]:
    meta = ds.meta
    return {
        "run": {"run_id": run_id, "artifact_schema_version": artifacts.ARTIFACT_SCHEMA_VERSION,
                "prediction_schema_version": PREDICTION_SCHEMA_VERSION, "event_schema_version": EVENT_SCHEMA_VERSION,
                "vidops_version": __version__, "git_commit": git_commit() or "",
                "seed": settings.seed, "thread_count": settings.thread_count, "task_type": task_type,
                "dataset_dir": str(ds.path.resolve()),
                "dataset_content_hash": str(meta.get("content_hash") or ""),
                "dataset_config_hash": str(meta.get("config_hash") or ""),
                "extractor_config_hash": str(meta.get("extractor_config_hash") or ""),
                "dataset_schema_version": str(meta.get("schema_version") or ""),
                "feature_schema": ",".join(spec.columns)},
        "model": {k: v for k, v in asdict(settings).items()},
    }


def train(dataset_dir: str | Path, settings: ModelSettings, run_dir: str | Path, run_id: str | None = None,
          on_event: EventFn | None = None) -> TrainResult:
    """Train every target and write the run to ``run_dir``; returns its metrics."""
    emit: EventFn = on_event or (lambda _e: None)
    run_path = Path(os.path.abspath(run_dir))  # "runs/x/.." or "." have no usable name or sibling
    rid = run_id or run_path.name
    t0 = time.perf_counter()
    staging: Path | None = None
    try:
        artifacts.check_out_dir(run_path)
        ds = load_dataset(dataset_dir)
        targets = targets_of(ds.meta)
        task_type = device.resolve(settings.task_type)
        emit({"type": "train_started", "run_id": rid, "run_dir": str(run_path), "dataset": str(ds.path),
              "targets": [t.name for t in targets], "task_type": task_type, "rows": int(len(ds.frame))})
        split = make_split(ds.frame, settings, targets)
        spec = feature_spec(ds.meta, settings.use_text_features)
        spec = usable_text(ds.frame.loc[split.mask("train")], spec)
        x = prepare(ds.frame, spec)
        # Everything is written into a hidden sibling and moved into place at the end: a failed or
        # interrupted run never leaves a directory that looks complete (or mixes two runs' files).
        staging = artifacts.staging_dir(run_path)
        all_scores: dict[str, Any] = {}
        all_base: dict[str, Any] = {}
        all_cal: dict[str, Any] = {}
        all_files: dict[str, Any] = {}
        skipped: dict[str, str] = {}
        curves: list[dict[str, Any]] = []
        for target in targets:
            out = _fit_target(ds, x, spec, split.labels, target, settings, task_type, staging, emit)
            if isinstance(out, str):
                skipped[target.name] = out
                emit({"type": "train_target_skipped", "target": target.name, "reason": out})
                continue
            scores, base, cal, curve, files = out
            all_files[target.name] = files
            scores.update(metric=target.metric, horizon_days=target.horizon)
            all_scores[target.name], all_base[target.name], all_cal[target.name] = scores, base, cal
            curves.extend(curve)
            emit({"type": "train_target_done", "target": target.name, "metrics": report.summary_of(scores)})
        if not all_scores:
            reasons = "; ".join(f"{name}: {why}" for name, why in skipped.items())
            raise NothingToTrain(f"no target could be trained ({reasons}); the dataset needs rows with a target "
                                 "in both the training and the validation split (see docs/model.md, Splits)")
        result = {"schema_version": artifacts.ARTIFACT_SCHEMA_VERSION, "run_id": rid,
                  "dataset_content_hash": str(ds.meta.get("content_hash") or ""), "split": split.summary,
                  "fitted_on": {"validation": "train", "test": "train+validation" if settings.refit else "train"},
                  "targets": all_scores, "skipped": skipped}
        atomic_write_json(staging / "metrics.json", result)
        atomic_write_json(staging / "baselines.json", all_base)
        atomic_write_json(staging / "calibration.json", all_cal)
        atomic_write_json(staging / "models.json", all_files)
        atomic_write_json(staging / "feature_names.json", spec.to_json())
        atomic_write_json(staging / "dataset_meta.json", ds.meta)
        atomic_write_text(staging / "learning_curves.jsonl",
                          "".join(json.dumps(r, sort_keys=True) + "\n" for r in curves))
        artifacts.write_toml(staging / "config.toml", _config_sections(settings, ds, rid, spec, task_type))
        seconds = time.perf_counter() - t0
        atomic_write_json(staging / "run_info.json", {"trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                                                      "train_seconds": round(seconds, 3), "task_type": task_type})
        atomic_write_text(staging / "report.md", report.render_markdown(result))
        artifacts.publish(staging, run_path)
        emit({"type": "train_finished", "run_dir": str(run_path),
              "metrics": {k: report.summary_of(v) for k, v in all_scores.items()}, "skipped": skipped,
              "seconds": round(seconds, 3)})
        return TrainResult(run_path, result, seconds)
    except BaseException as exc:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        message = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{type(exc).__name__}: {exc}"
        emit({"type": "train_failed", "message": message})
        raise
