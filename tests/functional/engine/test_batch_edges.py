"""Batch edges an operator meets: one-line errors with the documented exit codes, hints, pool sizing."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.batches import FAST, events, vidops


def _failed_batch(tmp_path: Path) -> tuple[Path, Path]:
    """Batch ``b`` of one missing video, run to its end (the video failed): the workspace and the config."""
    cfg = tmp_path / "fast.toml"
    cfg.write_text(FAST)
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nmissing.mp4\n")
    ws = tmp_path / "ws"
    vidops(ws, cfg, "run", str(lst), "--no-ui", "--batch-id", "b", check=1)
    return ws, cfg


def _log_resumed_start(ws: Path) -> Path:
    """Append a resumed ``batch_started`` with no end to batch ``b``'s log; the batch's folder."""
    batch = ws / "batches" / "b"
    with (batch / "state.jsonl").open("a") as fh:
        fh.write('{"v": 1, "type": "batch_started", "ts": 1.0, "batch_id": "b", "total": 1, "resumed": true}\n')
    return batch


def _interrupted_batch(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Batch ``b`` that ran, then was resumed with no end: the workspace, the config and its folder."""
    ws, cfg = _failed_batch(tmp_path)
    return ws, cfg, _log_resumed_start(ws)


def _live_batch(tmp_path: Path, make_video: Callable[..., Path]) -> tuple[Path, Path]:
    """(workspace, config) of a detached batch "b" whose one video sleeps 30 s: it stays live."""
    cfg = tmp_path / "fast.toml"
    cfg.write_text(FAST + "[pool]\ngrace_s = 0.2\n")
    make_video("v0.avi", frames=10)
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nv0.avi\n")
    ws = tmp_path / "ws"
    env = {"VIDOPS_FAULTS": json.dumps({"local__v0": {"sleep_s": 30}})}
    vidops(ws, cfg, "run", str(lst), "--detach", "--batch-id", "b", env=env, check=0)
    return ws, cfg


def test_unwritable_workspace_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    cfg = tmp_path / "fast.toml"
    cfg.write_text(FAST)
    (tmp_path / "afile").write_text("")
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nmissing.mp4\n")
    out = vidops(tmp_path / "afile" / "ws", cfg, "run", str(lst), "--no-ui", check=2)
    assert "cannot write" in out.stderr and "afile" in out.stderr and "--workspace" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("command", ["run", "resume", "retry", "stop", "pause", "workers", "status", "list", "attach"])
def test_batch_commands_document_every_argument(command: str) -> None:
    from console.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parser = sub.choices[command]
    assert parser.description, f"vidops {command} --help has no description"
    undocumented = [a.dest for a in parser._actions if not a.help]
    assert not undocumented, f"vidops {command}: arguments without help: {undocumented}"


def test_status_says_what_to_do_next(tmp_path: Path) -> None:
    ws, cfg = _failed_batch(tmp_path)
    out = vidops(ws, cfg, "status", "b", check=0).stdout
    # the hints name the workspace, which is not ./workspace (they said 'vidops retry b ...', which looks there)
    assert "FAILED local__missing: invalid_input: row 2:" in out and f"vidops --workspace {ws} retry b --video KEY" in out
    (tmp_path / "missing.mp4").write_bytes(b"")  # now present, but empty: a failure found after validation
    vidops(ws, cfg, "retry", "b", "--video", "local__missing", "--no-ui", check=1)
    out = vidops(ws, cfg, "status", "b", check=0).stdout
    assert "FAILED local__missing (list row 2): not_video" in out
    (ws / "batches" / "b" / "state.jsonl").unlink()  # as if its supervisor never started
    out = vidops(ws, cfg, "status", "b", check=0).stdout
    assert "batch     b  (created)" in out and "1 total" in out and f"'vidops --workspace {ws} resume b'" in out


def test_attach_to_a_batch_whose_supervisor_died_says_so(tmp_path: Path) -> None:
    ws, cfg = _failed_batch(tmp_path)
    assert vidops(ws, cfg, "attach", "b", "--no-ui", check=1).stderr == ""  # finished: the run's exit code
    _log_resumed_start(ws)  # a resumed supervisor, then kill -9
    out = vidops(ws, cfg, "attach", "b", "--no-ui", check=130)
    assert "no running supervisor" in out.stderr and f"'vidops --workspace {ws} resume b'" in out.stderr


def test_status_hint_for_a_batch_ended_by_a_fatal_error() -> None:
    from console.commands.status_cmd import _next_step

    doc = {"batch_id": "b", "state": "error", "batch_dir": "/ws/batches/b", "failed": [],
           "counts": {"queued": 3, "failed": 0}}
    assert "'vidops resume b'" in (_next_step(doc) or "") and "workers.log" in (_next_step(doc) or "")
    assert "'vidops --workspace /data/ws resume b'" in (_next_step(doc, "/data/ws") or "")


def test_resume_with_no_workers_is_a_usage_error(tmp_path: Path) -> None:
    ws, cfg = _failed_batch(tmp_path)
    out = vidops(ws, cfg, "resume", "b", "--no-ui", "--workers", "-1", timeout=30, check=2)
    assert "--workers must be at least 1" in out.stderr


def test_status_components_line_names_skipped_components() -> None:
    from console.commands.status_cmd import _components

    line = _components({"loudness": {"skipped": 2}, "probe": {"done": 2}})
    assert line == "loudness 0/2 (2 skipped), probe 2/2"


def test_resume_of_a_finished_batch_changes_nothing(tmp_path: Path) -> None:
    ws, cfg = _failed_batch(tmp_path)
    log = ws / "batches" / "b" / "state.jsonl"
    before = log.read_bytes()
    out = vidops(ws, cfg, "resume", "b", "--no-ui", check=1)  # the run's exit code: a failure
    # its one failure is permanent (a missing file): --all-failed alone would re-queue nothing
    assert "already finished" in out.stdout and f"'vidops --workspace {ws} retry b --video KEY'" in out.stdout
    assert "--all-failed --include-permanent" in out.stdout
    assert log.read_bytes() == before


def test_resume_hint_of_a_finished_batch_follows_its_failures() -> None:
    from console.commands.resume_cmd import _retry_hint

    lost = {"error_class": "worker_lost", "transient": True}
    bad = {"error_class": "not_video", "transient": False}
    assert _retry_hint("b", []) == ""
    assert "'vidops retry b --all-failed' re-queues the 1 retryable" in _retry_hint("b", [lost, bad])
    assert "'vidops retry b --video KEY'" in _retry_hint("b", [bad])
    assert "'vidops --workspace /data/ws retry b --all-failed'" in _retry_hint("b", [lost], "/data/ws")


def test_resume_of_a_running_batch_says_it_is_running(tmp_path: Path, make_video: Callable[..., Path]) -> None:
    ws, cfg = _live_batch(tmp_path, make_video)
    try:
        out = vidops(ws, cfg, "resume", "b", check=0)
        # the hint works as given: the workspace is not ./workspace (it said 'vidops attach b')
        assert "already running" in out.stdout and f"vidops --workspace {ws} attach b" in out.stdout
        assert [e["command"] for e in events(ws, "b") if e["type"] == "command_received"] == ["status"]
    finally:
        vidops(ws, cfg, "stop", "b", "--now", check=0)


def test_retry_of_a_video_that_did_not_fail_in_a_live_batch_says_so(tmp_path: Path,
                                                                   make_video: Callable[..., Path]) -> None:
    ws, cfg = _live_batch(tmp_path, make_video)
    try:
        out = vidops(ws, cfg, "retry", "b", "--video", "local__v0", check=0)
        # it said "no failed video matched (--all-failed leaves permanent failures; name them with --video KEY ...)"
        assert json.loads(out.stdout)["requeued"] == []
        assert "nothing to retry: local__v0 has not failed" in out.stderr and "--all-failed" not in out.stderr
    finally:
        vidops(ws, cfg, "stop", "b", "--now", check=0)


def test_control_commands_to_a_killed_supervisor_say_what_happened(tmp_path: Path) -> None:
    ws, cfg, batch = _interrupted_batch(tmp_path)  # resumed, then kill -9: the socket file stays behind
    (batch / "control.addr").write_text(str(batch / "control.sock") + "\n")
    (batch / "control.sock").write_text("")
    out = vidops(ws, cfg, "pause", "b", check=2)
    assert "no running supervisor (it is interrupted)" in out.stderr and f"'vidops --workspace {ws} resume b'" in out.stderr


def test_a_daemon_that_dies_at_start_is_one_message_and_exit_3(tmp_path: Path) -> None:
    ws, cfg, batch = _interrupted_batch(tmp_path)  # interrupted, so resume has work to start
    (batch / "batch.toml").write_text("not = [valid toml\n")  # damaged: the daemon cannot load it
    out = vidops(ws, cfg, "resume", "b", "--detach", check=3)
    assert "exited with code" in out.stderr and "supervisor.log" in out.stderr and "Traceback" not in out.stderr


def test_status_counts_every_failure_beyond_the_listed_ones(tmp_path: Path) -> None:
    cfg = tmp_path / "fast.toml"
    cfg.write_text(FAST)
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\n" + "".join(f"m{i}.mp4\n" for i in range(1030)))
    vidops(tmp_path / "ws", cfg, "run", str(lst), "--no-ui", "--batch-id", "b", check=1)
    out = vidops(tmp_path / "ws", cfg, "status", "b", check=0).stdout
    assert "... and 1010 more failures" in out
    assert "no file of the list was found: relative video_path values resolve against the list file's folder" in out


def test_the_pool_starts_no_more_workers_than_videos(tmp_path: Path, make_video: Callable[..., Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.backends.local as local
    from engine import api
    from engine.config import load_settings
    from engine.supervisor import Supervisor

    make_video("v0.avi", frames=10)
    lst = tmp_path / "list.csv"
    lst.write_text("video_path\nv0.avi\n")
    spawned: list[int] = []
    real = local.spawn_worker

    def counting(worker_id: int, *args: Any) -> Any:
        spawned.append(worker_id)
        return real(worker_id, *args)

    monkeypatch.setattr(local, "spawn_worker", counting)
    cfg = tmp_path / "fast.toml"
    cfg.write_text(FAST)
    paths = api.prepare_batch(tmp_path / "ws", load_settings(cfg), str(lst), "b")
    assert Supervisor(paths, workers=4, install_signals=False).run() == 0
    assert spawned == [1]  # one video: one worker, not a pool of four
