"""What an operator sees for a broken config: exit 2, one line naming file, key, value, what is
allowed and the likely intended spelling; relative paths resolve against the config's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.cli import main
from engine.config import PATH_KEYS, ConfigError, Settings, load_settings
from engine.settings_base import did_you_mean


def write(tmp_path: Path, text: str | bytes, name: str = "c.toml") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("text", "key", "fragments"),
    [
        ("[extrat]\nmodules = []\n", "extrat", ["unknown section", "did you mean 'extract'?"]),
        ("[pool]\nworkres = 4\n", "pool.workres", ["unknown key", "did you mean 'workers'?", "known: backend"]),
        ("[pool]\nbackend = 'rey'\n", "pool.backend", ["got 'rey'", "'local' | 'ray'", "did you mean 'ray'?"]),
        ("[pool]\nvideo_timeout_s = nan\n", "pool.video_timeout_s", ["finite number", "nan"]),
        ("[retry]\nbackoff_max_s = inf\n", "retry.backoff_max_s", ["finite number", "inf"]),
        ("[extract]\nmodules = ['loudnes']\n", "extract.modules", ["unknown module 'loudnes'"]),
    ],
)
def test_messages_name_key_value_and_suggestion(tmp_path: Path, text: str, key: str, fragments: list[str]) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.key == key
    msg = str(info.value)
    assert msg.startswith(f"{path}: {key}: "), msg  # the key once, not "extract: extract.modules"
    for fragment in fragments:
        assert fragment in msg, msg


def test_no_suggestion_for_unrelated_names() -> None:
    assert did_you_mean("zzzz", ["workers", "backend"]) == ""
    assert did_you_mean(3, ["workers"]) == ""


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda d: d.mkdir(), "is a directory"),
        (lambda d: d.write_bytes(b"[pool]\nworkers = 1 # \xff\n"), "not UTF-8"),
        (lambda d: None, "config file not found"),
    ],
)
def test_unusable_config_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                    setup: object, fragment: str) -> None:
    target = tmp_path / "cfg.toml"
    setup(target)  # type: ignore[operator]
    rc = main(["--workspace", str(tmp_path / "ws"), "--config", str(target), "list"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("\n") == 1 and str(target) in err and fragment in err, err
    assert "Traceback" not in err


def test_unreadable_config_file_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "[pool]\n")

    def denied(self: Path, *a: object, **k: object) -> object:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", denied)
    with pytest.raises(ConfigError, match="cannot read the config file: Permission denied"):
        load_settings(path)


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf_dir = tmp_path / "etc"
    conf_dir.mkdir()
    path = write(conf_dir, '[paths]\nworkspace = "ws"\nresult_store = "../store"\n[model]\nartifacts_dir = "/abs/art"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    s = load_settings(Path("..") / "etc" / "c.toml")
    assert s.paths.workspace == str(conf_dir / "ws")
    assert s.paths.result_store == str(tmp_path / "store")
    assert s.model.artifacts_dir == "/abs/art"
    assert load_settings(path).paths.workspace == str(conf_dir / "ws")
    assert load_settings(None).paths.workspace == "workspace"  # the default: the current directory


def test_workspace_precedence_flag_then_env_then_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from console.cli import build_parser, make_context

    path = write(tmp_path, '[paths]\nworkspace = "from_config"\n')
    monkeypatch.chdir(tmp_path)
    parser = build_parser()
    monkeypatch.delenv("VIDOPS_WORKSPACE", raising=False)
    assert make_context(parser.parse_args(["--config", str(path), "list"])).workspace == tmp_path / "from_config"
    monkeypatch.setenv("VIDOPS_WORKSPACE", "from_env")
    assert make_context(parser.parse_args(["--config", str(path), "list"])).workspace == Path("from_env")
    ctx = make_context(parser.parse_args(["--workspace", "from_flag", "--config", str(path), "list"]))
    assert ctx.workspace == Path("from_flag") and ctx.settings.paths.workspace == "from_flag"


def test_path_keys_are_settings() -> None:
    s = Settings()
    for dotted in PATH_KEYS:
        section, key = dotted.split(".")
        assert isinstance(getattr(getattr(s, section), key), str), dotted
