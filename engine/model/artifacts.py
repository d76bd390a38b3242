"""The layout of a trained run, ``artifacts/<run_id>/``, and loading it back.

Files (all written atomically; nothing is pickled):

* ``model_<metric>_<h>d.cbm``: the CatBoost model of each target, native format; with
  ``ensemble_size = K > 1`` also ``model_<metric>_<h>d.s1.cbm`` ... ``.s<K-1>.cbm`` (one per
  seed), and with ``point_loss = "mae"`` the point models ``model_<metric>_<h>d.point.cbm``,
  ``.point.s1.cbm`` ...; ``models.json`` lists each target's files.
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
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catboost import CatBoostError, CatBoostRegressor

from engine.atomic import _current_umask, _fsync_dir, atomic_write_text
from engine.model.data import FeatureSpec, Target, targets_of
from engine.model.predictor import Ensemble

ARTIFACT_SCHEMA_VERSION = 1


def model_file(target: Target, index: int = 0, kind: str = "") -> str:
    """``model_<target>.cbm`` (first member), ``model_<target>.s<i>.cbm``, ``model_<target>.point[.s<i>].cbm``."""
    parts = [f"model_{target.name}"] + ([kind] if kind else []) + ([f"s{index}"] if index else [])
    return ".".join(parts) + ".cbm"


def save_model(model: CatBoostRegressor, path: Path) -> None:
    """CatBoost writes to a path, so write a temp file beside it and rename over the target."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.fchmod(fd, 0o666 & ~_current_umask())  # mkstemp makes 0600; the model gets the mode open() would give
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


# Every name a run directory may hold (``stage.json``: the pipeline's stage marker).
RUN_FILES = frozenset({"metrics.json", "baselines.json", "calibration.json", "models.json", "feature_names.json",
                       "dataset_meta.json", "learning_curves.jsonl", "config.toml", "run_info.json", "report.md",
                       "stage.json"})


def is_run_dir(path: Path) -> bool:
    """Whether ``--out`` may be replaced as a whole: it holds nothing but a run's own files (a user's
    project directory with a config.toml or a metrics.json of its own is not one)."""
    names = [p.name for p in path.iterdir()]
    return bool(names) and all(n in RUN_FILES or (n.startswith("model_") and n.endswith(".cbm"))
                               or (n.startswith(".") and n.endswith(".tmp")) for n in names)


def check_out_dir(path: Path) -> None:
    """Refuse an ``--out`` that is a file, a non-empty directory that is not a model run, or the
    current directory (or one above it): publishing renames the run directory."""
    cwd = Path.cwd()
    if path.is_dir() and (path.resolve() == cwd.resolve() or path.resolve() in cwd.resolve().parents):
        raise FileExistsError(f"{path} is the current directory or contains it; the run directory is replaced "
                              "as a whole, so give a path outside the current directory")
    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{path} exists and is not a directory; choose a new run directory")
    if path.is_dir() and any(path.iterdir()) and not is_run_dir(path):
        raise FileExistsError(f"{path} exists and holds files that are not a model run; "
                              "choose a new or empty run directory")


def staging_dir(path: Path) -> Path:
    """A hidden sibling the run is written into, so that ``path`` only ever holds a complete run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
    staging.chmod(0o777 & ~_current_umask())  # mkdtemp makes it 0700; the run dir gets the usual mode
    return staging


def publish(staging: Path, path: Path) -> None:
    """Move the finished run into place. A previous run there (a retrain into the same ``--out``) is
    moved aside first and removed afterwards, so an interrupted retrain leaves the old run whole."""
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old-", dir=path.parent))
        try:
            os.replace(path, old / "run")
        except OSError:
            old.rmdir()
            raise
    os.replace(staging, path)
    _fsync_dir(path.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
    files: dict[str, Any] = field(default_factory=dict)
    _models: dict[str, Ensemble] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return str(self.config.get("run", {}).get("run_id", self.path.name))

    @property
    def targets(self) -> list[Target]:
        return [t for t in targets_of(self.meta) if t.name in self.calibration]

    def model(self, target: Target) -> Ensemble:
        """Every model of the target (``models.json``; a run without it has one model per target)."""
        if target.name not in self._models:
            entry = self.files.get(target.name) or {"members": [model_file(target)], "point": []}
            self._models[target.name] = Ensemble([_load(self.path / f) for f in entry["members"]],
                                                 [_load(self.path / f) for f in entry.get("point", [])])
        return self._models[target.name]


class RunLoadError(ValueError):
    """A run directory that cannot be used (a file missing, unreadable or corrupted): retrain it."""


def _load(path: Path) -> CatBoostRegressor:
    m = CatBoostRegressor()
    try:
        m.load_model(str(path), format="cbm")
    except CatBoostError as exc:
        raise RunLoadError(f"{path}: cannot load the CatBoost model ({str(exc)[-120:]}); "
                           "the run is damaged, retrain it with 'vidops train'") from None
    return m


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunLoadError(f"{path}: cannot read ({exc}); the run is damaged, retrain it with 'vidops train'") from None


def load_run(path: str | Path) -> ModelRun:
    """Read a run back; a missing or damaged file raises :class:`RunLoadError` naming it.

    The CatBoost models are loaded on first use (:meth:`ModelRun.model`), but every listed
    model file must exist now, so a damaged run is refused before any work is done."""
    run = Path(path)
    if not (run / "config.toml").is_file() or not (run / "metrics.json").is_file():
        raise RunLoadError(f"{run} is not a trained model run (no config.toml/metrics.json)")
    try:
        with (run / "config.toml").open("rb") as fh:
            config = tomllib.load(fh)
    except (OSError, ValueError) as exc:
        raise RunLoadError(f"{run / 'config.toml'}: cannot read ({exc}); retrain the run") from None
    info = _json(run / "run_info.json") if (run / "run_info.json").is_file() else {}
    files = _json(run / "models.json") if (run / "models.json").is_file() else {}
    if not isinstance(files, dict):
        raise RunLoadError(f"{run / 'models.json'}: expected a JSON object; retrain the run")
    try:
        spec = FeatureSpec.from_json(_json(run / "feature_names.json"))
    except (KeyError, TypeError) as exc:
        raise RunLoadError(f"{run / 'feature_names.json'}: lacks {exc}; retrain the run") from None
    loaded = ModelRun(path=run, config=config, meta=_json(run / "dataset_meta.json"), spec=spec,
                      metrics=_json(run / "metrics.json"), baselines=_json(run / "baselines.json"),
                      calibration=_json(run / "calibration.json"), info=info, files=files)
    for target in loaded.targets:
        entry = files.get(target.name) or {"members": [model_file(target)], "point": []}
        absent = [f for f in [*entry.get("members", []), *entry.get("point", [])] if not (run / f).is_file()]
        if absent:
            raise RunLoadError(f"{run}: model file(s) {', '.join(absent)} of {target.name} missing; "
                               "retrain the run with 'vidops train'")
    return loaded
