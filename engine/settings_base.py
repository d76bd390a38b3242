"""Declarative settings: typed dataclass sections with documented, validated fields.

Every config section is a frozen dataclass whose fields are declared with :func:`setting`.
The metadata on each field (doc, bounds, choices, whether it changes results) drives
validation of ``config.toml``, the generated config reference and ``config_hash``.
Kept free of heavy imports so any section module can use it.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin


class ConfigError(ValueError):
    """A configuration value is unknown, of the wrong type or out of range."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source = source
        self.key = key
        self.message = message
        super().__init__(f"{source}: {key}: {message}" if key else f"{source}: {message}")


def did_you_mean(word: object, choices: typing.Iterable[str]) -> str:
    """``"did you mean 'x'? "`` for the closest of ``choices`` to a mistyped ``word``, else ``""``."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return f"did you mean {close[0]!r}? " if close else ""


def setting(
    default: Any,
    doc: str,
    *,
    min: float | None = None,  # noqa: A002 - reads naturally at call sites
    max: float | None = None,  # noqa: A002
    affects_results: bool = False,
) -> Any:
    """Declare a documented setting; ``affects_results`` puts it into ``config_hash``."""
    meta = {"doc": doc, "min": min, "max": max, "affects_results": affects_results}
    if isinstance(default, list | dict):
        frozen_default = default

        def factory() -> Any:
            return _copy(frozen_default)

        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def section(doc: str) -> Any:
    """Declare a nested section (a dataclass) with a documentation line."""

    def factory(cls: type) -> Any:
        return field(default_factory=cls, metadata={"doc": doc, "section": True})

    return factory


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (list,):
        return f"list of {_type_name(get_args(tp)[0])}"
    if origin in (dict,):
        return "table"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp))
    if tp is type(None):
        return "nothing"
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, source: str, key: str) -> Any:
    """Check ``value`` against the annotation ``tp``; ints are accepted where floats are."""
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        errors = []
        for arg in get_args(tp):
            try:
                return _coerce(arg, value, source, key)
            except ConfigError as exc:
                errors.append(exc)
        raise ConfigError(source, key, f"expected {_type_name(tp)}, got {value!r}")
    if origin is Literal:
        if value not in get_args(tp):
            hint = did_you_mean(value, [a for a in get_args(tp) if isinstance(a, str)])
            raise ConfigError(source, key, f"expected one of {_type_name(tp)}, got {value!r}"
                              + (f" ({hint.strip()})" if hint else ""))
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(source, key, f"expected {_type_name(tp)}, got {value!r}")
        (item,) = get_args(tp)
        return [_coerce(item, v, source, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(source, key, f"expected a table, got {value!r}")
        _, val_tp = get_args(tp)
        return {k: _coerce(val_tp, v, source, f"{key}.{k}") for k, v in value.items()}
    if tp is Any:
        return value
    if tp is type(None):
        if value is not None:
            raise ConfigError(source, key, f"expected nothing, got {value!r}")
        return None
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(source, key, f"expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(source, key, f"expected a finite number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(source, key, f"expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(source, key, f"expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(source, key, f"expected a string, got {value!r}")
        return value
    raise ConfigError(source, key, f"unsupported setting type {tp!r}")


def build_section(cls: type, data: dict[str, Any], source: str, prefix: str) -> Any:
    """Build dataclass ``cls`` from a TOML table, rejecting unknown keys and bad values."""
    if not isinstance(data, dict):
        raise ConfigError(source, prefix, f"expected a table, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        known = ", ".join(sorted(fields))
        what = "section" if not prefix else "key"
        hint = did_you_mean(unknown[0], fields)
        raise ConfigError(source, f"{prefix}.{unknown[0]}".lstrip("."), f"unknown {what} ({hint}known: {known})")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        f = fields[name]
        key = f"{prefix}.{name}".lstrip(".")
        tp = hints[name]
        if f.metadata.get("section"):
            kwargs[name] = build_section(tp, value, source, key)
            continue
        coerced = _coerce(tp, value, source, key)
        lo, hi = f.metadata.get("min"), f.metadata.get("max")
        for v in coerced if isinstance(coerced, list) else [coerced]:
            if isinstance(v, int | float) and not isinstance(v, bool):
                if lo is not None and v < lo:
                    raise ConfigError(source, key, f"must be >= {lo}, got {v!r}")
                if hi is not None and v > hi:
                    raise ConfigError(source, key, f"must be <= {hi}, got {v!r}")
        kwargs[name] = coerced
    obj = cls(**kwargs)
    check = getattr(obj, "check_settings", None)  # optional cross-field check hook
    if check is not None:
        problem = check()  # None, a message, or (dotted key, message)
        if isinstance(problem, tuple):
            raise ConfigError(source, problem[0], problem[1])
        if problem:
            # a message that starts with its own dotted key ("extract.modules: ...") names it
            head, sep, rest = problem.partition(": ")
            if sep and (head == prefix or head.startswith(prefix + ".")) and " " not in head:
                raise ConfigError(source, head, rest)
            raise ConfigError(source, prefix, problem)
    return obj


def to_dict(obj: Any) -> dict[str, Any]:
    """Plain-dict view of a settings dataclass (TOML/JSON friendly)."""
    return dataclasses.asdict(obj)


def result_affecting(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Only the settings marked ``affects_results`` (recursively), keyed by dotted name."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{prefix}{f.name}"
        if f.metadata.get("section"):
            out.update(result_affecting(value, key + "."))
        elif f.metadata.get("affects_results"):
            out[key] = value
    return out


def describe(cls: type, prefix: str = "") -> list[tuple[str, str, Any, str]]:
    """(key, type, default, doc) rows for the config reference."""
    rows: list[tuple[str, str, Any, str]] = []
    hints = typing.get_type_hints(cls)
    instance = cls()
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        if f.metadata.get("section"):
            rows.extend(describe(hints[f.name], key + "."))
        else:
            rows.append((key, _type_name(hints[f.name]), getattr(instance, f.name), f.metadata.get("doc", "")))
    return rows


__all__ = [
    "ConfigError",
    "build_section",
    "dataclass",
    "describe",
    "did_you_mean",
    "result_affecting",
    "section",
    "setting",
    "to_dict",
]
