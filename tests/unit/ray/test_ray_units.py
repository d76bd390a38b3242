"""Ray backend pieces that need no Ray cluster: lazy import, missing-Ray message, sink, shipping policy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine.backends import BACKENDS
from engine.backends.ray_inputs import ShipPolicy, read_input
from engine.backends.ray_task import Inbox, MemorySink, _visible
from engine.store import RunDir, fingerprint

REPO = Path(__file__).resolve().parents[3]


def _py(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120,
                          env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})


def test_ray_is_registered_and_import_engine_never_loads_ray() -> None:
    assert BACKENDS["ray"] == "engine.backends.ray_backend:RayBackend"
    out = _py("import sys, engine, engine.supervisor, engine.backends, engine.backends.local, "
              "engine.backends.ray_task, engine.backends.ray_inputs, engine.backends.ray_backend, "
              "engine.backends.ray_session, engine.backends.ray_waker, console.cli\n"
              "print('ray' in sys.modules)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_backend_ray_without_ray_installed_names_the_install_command(tmp_path: Path) -> None:
    (tmp_path / "v.avi").write_bytes(b"x")
    (tmp_path / "list.csv").write_text("video_path\nv.avi\n")
    code = ("import sys; sys.modules['ray'] = None\n"
            "from console.cli import main\n"
            f"sys.exit(main(['--workspace', {str(tmp_path / 'ws')!r}, 'run', {str(tmp_path / 'list.csv')!r}, "
            "'--backend', 'ray', '--no-ui']))")
    out = _py(code)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "pip install 'vidops[ray]'" in out.stderr and "'ray'" in out.stderr
    assert not (tmp_path / "ws" / "batches").exists()  # refused before a batch was created


def test_pipeline_with_a_ray_backend_without_ray_refuses_before_a_batch(tmp_path: Path) -> None:
    # pool.backend = "ray" in the config: the pipeline created a batch that ended in 'error'
    (tmp_path / "v.avi").write_bytes(b"x")
    (tmp_path / "list.csv").write_text("video_path\nv.avi\n")
    (tmp_path / "snaps.csv").write_text("video_id,snapshot_time,views,likes,comments\na,2026-01-01,1,1,1\n")
    (tmp_path / "ray.toml").write_text('[pool]\nbackend = "ray"\n')
    code = ("import sys; sys.modules['ray'] = None\n"
            "from console.cli import main\n"
            f"sys.exit(main(['--workspace', {str(tmp_path / 'ws')!r}, '--config', {str(tmp_path / 'ray.toml')!r}, "
            f"'pipeline', '--videos', {str(tmp_path / 'list.csv')!r}, '--snapshots', {str(tmp_path / 'snaps.csv')!r}, "
            "'--no-ui']))")
    out = _py(code)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "pip install 'vidops[ray]'" in out.stderr
    assert not (tmp_path / "ws" / "batches").exists()


def test_memory_sink_mirrors_the_manifest_and_ships_every_write(tmp_path: Path) -> None:
    sent: list[tuple[str, dict[str, Any]]] = []
    manifest = {"run_id": "r", "components": {"probe": {"status": "done", "version": "1", "summary": {}}}}
    sink = MemorySink(manifest, lambda kind, **f: sent.append((kind, f)))
    arr = {"x": np.arange(3, dtype=np.float32)}
    sink.write_component("a", version="2", arrays=arr, summary={"n": 3}, wall_s=0.5)
    sink.write_component("b", version="1", arrays=None, summary={}, status="skipped", reason="n/a")
    sink.update(video={"w": 1})
    sink.complete()
    m = sink.manifest()
    assert set(m["components"]) == {"probe", "a", "b"} and m["status"] == "complete" and m["video"] == {"w": 1}
    assert m["components"]["a"]["arrays"] == {"x": {"dtype": "float32", "shape": [3]}}
    np.testing.assert_array_equal(sink.arrays("a")["x"], arr["x"])
    with pytest.raises(OSError):
        sink.arrays("probe")  # an earlier attempt's NPZ that the driver did not ship
    prior = {"probe": {"t": np.zeros(2)}}
    assert MemorySink({"components": {}}, lambda kind, **f: None, prior).arrays("probe") is prior["probe"]
    assert [k for k, _ in sent] == ["component", "component", "update"]
    # The driver replays the messages into a RunDir: the same manifest entries, the same NPZ.
    run = RunDir(tmp_path / "run")
    run.start({"platform_id": "p", "video_id": "v", "video_path": "x"}, "r", "h")
    for kind, f in sent:
        if kind == "component":
            run.write_component(f["name"], version=f["version"], arrays=f["arrays"], summary=f["summary"],
                                status=f["status"], reason=f["reason"], wall_s=f["wall_s"])
        else:
            run.update(**f["fields"])
    assert run.manifest()["components"]["a"] == m["components"]["a"]
    assert run.manifest()["components"]["b"] == m["components"]["b"]
    np.testing.assert_array_equal(run.arrays("a")["x"], arr["x"])


def test_inbox_drains_in_order() -> None:
    box = Inbox()
    box.put("t", "progress", {"fraction": 0.1})
    box.put("t", "progress", {"fraction": 0.2})
    assert box.flush() is True
    assert [f["fraction"] for _, _, f in box.drain()] == [0.1, 0.2]
    assert box.drain() == []


def test_visibility_compares_size_and_content(tmp_path: Path) -> None:
    p = tmp_path / "v.bin"
    p.write_bytes(b"abc")
    fp = fingerprint(p)
    assert _visible(str(p), fp) and _visible(str(p), None)
    assert not _visible(str(tmp_path / "missing.bin"), fp)
    p.write_bytes(b"abd")  # same size, other content: a different file at the same path
    assert not _visible(str(p), fp)


def test_ship_policy_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VIDOPS_RAY_SHIP", raising=False)
    monkeypatch.delenv("VIDOPS_RAY_SHIP_MAX_MB", raising=False)
    assert ShipPolicy.from_env() == ShipPolicy("auto", 256 * 2**20)
    monkeypatch.setenv("VIDOPS_RAY_SHIP", "Always")
    monkeypatch.setenv("VIDOPS_RAY_SHIP_MAX_MB", "0.5")
    assert ShipPolicy.from_env() == ShipPolicy("always", 2**19)
    monkeypatch.setenv("VIDOPS_RAY_SHIP", "sometimes")
    with pytest.raises(ValueError, match="VIDOPS_RAY_SHIP"):
        ShipPolicy.from_env()
    p = tmp_path / "v.bin"
    p.write_bytes(b"0123456789")
    assert read_input(str(p), 10) == b"0123456789"
    assert read_input(str(p), 9) is None and read_input(str(p), 10, probe_only=True) == b""
    assert read_input(str(tmp_path / "missing"), 10) is None


def test_resuming_a_ray_batch_without_ray_is_a_clear_error() -> None:
    out = _py("import sys; sys.modules['ray'] = None\n"
              "from engine.backends import BackendUnavailable\n"
              "from engine.backends.ray_session import connect\n"
              "try:\n    connect('')\nexcept BackendUnavailable as exc:\n    print(exc)\n")
    assert out.returncode == 0, out.stderr
    assert "pip install 'vidops[ray]'" in out.stdout
