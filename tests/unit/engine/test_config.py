"""Config loading rejects unknown keys, wrong types and out-of-range values, naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import ConfigError, apply_overrides, config_hash, load_settings
from engine.pipeline import settings_hash

REPO = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "c.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ("[pool]\nwokers = 2\n", "pool.wokers", "unknown key"),
        ("[pol]\nworkers = 2\n", "pol", "unknown section"),
        ("[pool]\nworkers = 'two'\n", "pool.workers", "expected an integer"),
        ("[pool]\nworkers = -1\n", "pool.workers", "must be >= 0"),
        ("[alerts]\nerror_rate = 1.5\n", "alerts.error_rate", "must be <= 1.0"),
        ("[pool]\nbackend = 'k8s'\n", "pool.backend", "expected one of"),
        ("[retry]\nmax_attempts = true\n", "retry.max_attempts", "expected an integer"),
        ("[monitor]\ninterval_s = '2'\n", "monitor.interval_s", "expected a number"),
        ("pool = 3\n", "pool", "expected a table"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, text: str, key: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    msg = str(info.value)
    assert str(path) in msg and key in msg and fragment in msg


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[pool\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_defaults_and_ints_accepted_for_floats(tmp_path: Path) -> None:
    s = load_settings(write(tmp_path, "[pool]\nvideo_timeout_s = 60\n"))
    assert s.pool.video_timeout_s == 60.0 and isinstance(s.pool.video_timeout_s, float)
    assert s.retry.max_attempts == 3 and s.alerts.error_rate == 0.10


def test_bundled_config_is_valid_and_documents_every_section() -> None:
    s = load_settings(REPO / "config.toml")
    text = (REPO / "config.toml").read_text()
    for section in ("[paths]", "[pool]", "[retry]", "[monitor]", "[alerts]", "[extract]"):
        assert section in text
    assert s.retry.max_attempts >= 1


def test_overrides_are_validated() -> None:
    s = apply_overrides(load_settings(None), {"pool.workers": 4})
    assert s.pool.workers == 4
    with pytest.raises(ConfigError, match="pool.workers"):
        apply_overrides(s, {"pool.workers": -3})
    with pytest.raises(ConfigError, match="unknown setting"):
        apply_overrides(s, {"pool.nope": 1})


def test_config_hash_ignores_operational_settings() -> None:
    base = load_settings(None)
    h = settings_hash(base)
    assert h == settings_hash(load_settings(None))  # stable across loads
    for override in ({"pool.workers": 7}, {"monitor.interval_s": 9.0}, {"paths.workspace": "/elsewhere"},
                     {"console.refresh_hz": 2.0}, {"retry.max_attempts": 9}):
        assert settings_hash(apply_overrides(base, override)) == h, override
    assert config_hash(base, {"probe": "2"}) != config_hash(base, {"probe": "1"})  # component versions count
    assert settings_hash(apply_overrides(base, {"extract.modules": []})) != h  # result-affecting setting


def test_generated_config_files_are_current() -> None:
    from engine.config_doc import render_markdown, render_toml

    assert (REPO / "config.toml").read_text() == render_toml(), "run: python -m engine.config_doc"
    assert (REPO / "docs" / "config.md").read_text() == render_markdown(), "run: python -m engine.config_doc"
