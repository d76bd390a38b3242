"""pool.ray_address = "" starts a private local Ray, whatever `ray start` left on the machine.

A bare ray.init() joins the cluster named in <ray temp dir>/ray_current_cluster; when that cluster
is gone (killed without `ray stop`), the driver hung retrying its address. RAY_TMPDIR points Ray at
a temp dir of this test holding such a stale file, so no other Ray on the machine is touched."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("ray")

from support.batches import FAST, events, only_batch, vidops  # noqa: E402


@pytest.fixture
def stale_ray_tmpdir() -> Iterator[Path]:
    short = Path(tempfile.mkdtemp(prefix="vr", dir="/tmp"))  # Ray's socket paths must stay short
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (short / "ray").mkdir()
    (short / "ray" / "ray_current_cluster").write_text(f"127.0.0.1:{port}")  # nothing listens there
    try:
        yield short
    finally:
        shutil.rmtree(short, ignore_errors=True)


def test_empty_address_ignores_a_stale_cluster_file(tmp_path: Path, make_video: Callable[..., Path],
                                                    stale_ray_tmpdir: Path) -> None:
    make_video("v0.avi", frames=20)
    (tmp_path / "list.csv").write_text("video_path\nv0.avi\n")
    cfg = tmp_path / "ray.toml"
    cfg.write_text(FAST + '[pool]\nbackend = "ray"\nray_address = ""\n')
    ws = tmp_path / "ws"
    out = vidops(ws, cfg, "run", str(tmp_path / "list.csv"), "--no-ui", "--workers", "1",
                 env={"RAY_TMPDIR": str(stale_ray_tmpdir)}, timeout=150)
    assert out.returncode == 0, out.stdout + out.stderr
    assert [e["key"] for e in events(ws, only_batch(ws)) if e["type"] == "video_succeeded"] == ["local__v0"]
