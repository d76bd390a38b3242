"""The layout of a trained run, ``artifacts/<run_id>/``, and loading it back.

Files (all written atomically; nothing is pickled):

* ``model_<metric>_<h>d.cbm``: one CatBoost model per target, native format.
* ``feature_names.json``: model columns by kind (numeric, categorical, text).
* ``dataset_meta.json``: the training dataset's meta (feature schema, hashes).
* ``config.toml``: resolved training settings and provenance ([model], [run]).
* ``metrics.json``, ``report.md``, ``learning_curves.jsonl``.
* ``baselines.json`` (coefficients), ``calibration.json`` (interval scales, isotonic maps).
* ``run_info.json``: wall-clock facts (trained_at, seconds) kept out of metrics.json.
"""

from __future__ import annotations

import json
import os
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catboost import CatBoostRegressor

from engine.atomic import _fsync_dir, atomic_write_text
from engine.model.data import FeatureSpec, Target, targets_of

ARTIFACT_SCHEMA_VERSION = 1


def model_file(target: Target) -> str:
    return f"model_{target.name}.cbm"


def save_model(model: CatBoostRegressor, path: Path) -> None:
    """CatBoost writes to a path, so write a temp file beside it and rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        model.save_model(tmp, format="cbm")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if value is None:
        return '""'
    return json.dumps(str(value), ensure_ascii=False)


def to_toml(sections: dict[str, dict[str, Any]]) -> str:
    """A small TOML writer for tables of scalars and lists (what config.toml holds)."""
    lines: list[str] = []
    for name, table in sections.items():
        lines.append(f"[{name}]")
        lines.extend(f"{key} = {_toml_value(val)}" for key, val in table.items())
        lines.append("")
    return "\n".join(lines)


def write_toml(path: Path, sections: dict[str, dict[str, Any]]) -> None:
    atomic_write_text(path, to_toml(sections))


@dataclass
class ModelRun:
    """A trained run read back from disk."""

    path: Path
    config: dict[str, Any]
    meta: dict[str, Any]
    spec: FeatureSpec
    metrics: dict[str, Any]
    baselines: dict[str, Any]
    calibration: dict[str, Any]
    info: dict[str, Any]
    _models: dict[str, CatBoostRegressor] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return str(self.config.get("run", {}).get("run_id", self.path.name))

    @property
    def targets(self) -> list[Target]:
        return [t for t in targets_of(self.meta) if t.name in self.calibration]

    def model(self, target: Target) -> CatBoostRegressor:
        if target.name not in self._models:
            m = CatBoostRegressor()
            m.load_model(str(self.path / model_file(target)), format="cbm")
            self._models[target.name] = m
        return self._models[target.name]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_run(path: str | Path) -> ModelRun:
    run = Path(path)
    if not (run / "config.toml").is_file() or not (run / "metrics.json").is_file():
        raise FileNotFoundError(f"{run} is not a trained model run (no config.toml/metrics.json)")
    with (run / "config.toml").open("rb") as fh:
        config = tomllib.load(fh)
    info = _json(run / "run_info.json") if (run / "run_info.json").is_file() else {}
    return ModelRun(path=run, config=config, meta=_json(run / "dataset_meta.json"),
                    spec=FeatureSpec.from_json(_json(run / "feature_names.json")),
                    metrics=_json(run / "metrics.json"), baselines=_json(run / "baselines.json"),
                    calibration=_json(run / "calibration.json"), info=info)
