"""The explicit registry of feature modules, in execution (finish) order.

Order matters: a module is finished after every module it ``needs`` or optionally reads
(story_structure reads cut_detection and loudness, uniqueness reads similarity_metrics).
Entries name the Python module; the class is the :class:`~engine.extractors.base.Module`
subclass in it whose ``name`` matches, imported only when needed (so reading the config does
not import torch or librosa unless parameters must be checked).
"""

from __future__ import annotations

import importlib
from typing import Any

from engine.extractors.base import Module
from engine.settings_base import did_you_mean

#: (module name, python module) in execution order
REGISTRY: list[tuple[str, str]] = [
    ("loudness", "engine.extractors.audio.loudness"),
    ("tempo", "engine.extractors.audio.tempo"),
    ("clap", "engine.extractors.audio.clap"),
    ("cut_detection", "engine.extractors.visual.cut_detection"),
    ("shot_quality", "engine.extractors.visual.shot_quality"),
    ("video_pacing", "engine.extractors.visual.video_pacing"),
    ("story_structure", "engine.extractors.visual.story_structure"),
    ("similarity_metrics", "engine.extractors.visual.similarity_metrics"),
    ("text_scoring", "engine.extractors.visual.text_scoring"),
    ("uniqueness", "engine.extractors.visual.uniqueness"),
    ("scene_classification", "engine.extractors.visual.scene_classification"),
]
NAMES = [n for n, _ in REGISTRY]
_PATHS = dict(REGISTRY)

#: default ``extract.modules``: every module whose inputs exist by default. ``clap`` embeds with
#: its weight-free ``spectral-v1`` backend when no checkpoint is configured; ``scene_classification``
#: needs a model file, so it is opt-in.
DEFAULT_MODULES = [n for n in NAMES if n != "scene_classification"]


def module_class(name: str) -> type[Module]:
    """The class registered as ``name`` (KeyError for unknown names)."""
    path = _PATHS[name]
    mod = importlib.import_module(path)
    for obj in vars(mod).values():
        if isinstance(obj, type) and issubclass(obj, Module) and obj is not Module and getattr(obj, "name", "") == name:
            return obj
    raise ImportError(f"{path} defines no Module subclass named {name!r}")


def ordered(names: list[str]) -> list[str]:
    """``names`` in registry order (duplicates dropped)."""
    wanted = set(names)
    return [n for n in NAMES if n in wanted]


def check_modules(names: list[str]) -> str | None:
    """A problem with an ``extract.modules`` list, or None."""
    for n in names:
        if n not in _PATHS:
            return f"modules: unknown module {n!r} ({did_you_mean(n, NAMES)}known: {', '.join(NAMES)})"
    return None


def check_params(params: dict[str, dict[str, Any]]) -> tuple[str, str] | None:
    """(key, problem) for the first invalid ``extract.params`` entry, or None.

    Keys must be modules of the registry and, per module, keys of its ``defaults`` with a
    value of the same type (ints accepted for floats); then the module's ``check_params``.
    """
    for mod_name, values in params.items():
        if mod_name not in _PATHS:
            return f"params.{mod_name}", f"unknown module ({did_you_mean(mod_name, NAMES)}known: {', '.join(NAMES)})"
        try:
            cls = module_class(mod_name)
        except ImportError as exc:
            return f"params.{mod_name}", f"module cannot be loaded: {exc}"
        for key, value in values.items():
            if key not in cls.defaults:
                known = ", ".join(sorted(cls.defaults)) or "none"
                return f"params.{mod_name}.{key}", f"unknown parameter ({did_you_mean(key, cls.defaults)}known: {known})"
            problem = _type_problem(cls.defaults[key], value)
            if problem:
                return f"params.{mod_name}.{key}", problem
        problem = cls.check_params({**cls.defaults, **values})
        if problem:
            return f"params.{mod_name}", problem
    return None


def _type_problem(default: Any, value: Any) -> str | None:
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, list):
        ok = isinstance(value, list)
    else:
        ok = True
    return None if ok else f"expected {type(default).__name__}, got {value!r}"


def instantiate(names: list[str], params: dict[str, dict[str, Any]]) -> list[Module]:
    return [module_class(n)(params.get(n, {})) for n in ordered(names)]
