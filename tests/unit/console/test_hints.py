"""Hints that name a command to run next name ``--workspace`` unless the workspace is ./workspace.

They said 'vidops resume B', 'vidops retry B ...', 'vidops status --json': those look in
./workspace, so for a batch elsewhere the command the user copied answered "no batch B".
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from engine.hints import vidops_command


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # ./workspace is tmp_path/workspace


def test_vidops_command_names_only_a_non_default_workspace(tmp_path: Path) -> None:
    assert vidops_command("resume b") == "vidops resume b"
    assert vidops_command("resume b", "workspace") == "vidops resume b"
    assert vidops_command("resume b", tmp_path / "workspace") == "vidops resume b"
    assert vidops_command("resume b", "ws") == "vidops --workspace ws resume b"
    assert vidops_command("status b --json", tmp_path / "my ws") == f"vidops --workspace '{tmp_path}/my ws' status b --json"


def test_engine_messages_name_the_workspace(tmp_path: Path) -> None:
    from engine import api
    from engine.batch import create_batch
    from engine.config import load_settings

    settings = load_settings(None)
    create_batch("ws", settings, [], "list.csv", "h", "b")
    with pytest.raises(FileExistsError, match="use 'vidops --workspace ws resume b'"):
        create_batch("ws", settings, [], "list.csv", "h", "b")
    with pytest.raises(KeyError, match="'vidops --workspace ws status b --json'"):
        api.retry_plan("ws", "b", ["nope"], False, False)
    # never started: the hint names the batch (it said "batch this batch ...; 'vidops resume' starts it")
    _, nothing = api.retry_plan("ws", "b", [], True, False)
    assert nothing == "nothing to retry: batch b has never started; 'vidops --workspace ws resume b' starts it"


def test_plain_renderer_names_the_workspace() -> None:
    from console.headless import PlainRenderer

    out = io.StringIO()
    r = PlainRenderer(out, every_s=1e9, workspace="ws")
    r({"type": "batch_started", "batch_id": "k1", "total": 1, "workers": 1})
    r({"type": "video_failed", "key": "local__v0", "error_class": "interrupted", "final": False, "counted": False})
    assert "local__v0 interrupted; 'vidops --workspace ws resume k1' continues it" in out.getvalue().splitlines()


def test_console_hints_name_the_workspace() -> None:
    from console.widgets.batch_header import BatchHeader
    from console.widgets.pipeline_panel import nothing_yet

    assert "start one with: vidops --workspace ws run LIST" in str(BatchHeader("ws").render())
    assert "start one with: vidops run LIST" in str(BatchHeader().render())
    assert "`vidops --workspace ws demo`" in nothing_yet("ws")
    assert "`vidops --workspace ws pipeline --snapshots FILE`" in nothing_yet("ws")


def test_control_command_hint_names_the_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from console.cli import main
    from engine.batch import create_batch
    from engine.config import load_settings

    create_batch("ws", load_settings(None), [], "list.csv", "h", "b")
    assert main(["--workspace", "ws", "pause", "b"]) == 2
    assert "no running supervisor (it is created); 'vidops --workspace ws resume b' continues it" in capsys.readouterr().err
