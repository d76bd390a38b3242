"""run_id stability and import hygiene (engine never imports the UI stack)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine.store import fingerprint, make_run_id


def test_run_id_depends_on_config_and_content(tmp_path: Path) -> None:
    p = tmp_path / "v.bin"
    p.write_bytes(b"a" * 3_000_000)
    fp = fingerprint(p)
    assert make_run_id("h1", fp) == make_run_id("h1", fingerprint(p))
    assert make_run_id("h1", fp) != make_run_id("h2", fp)
    with p.open("r+b") as fh:  # change the last MiB, keep size
        fh.seek(2_999_000)
        fh.write(b"b")
    os.utime(p, ns=(fp["mtime_ns"], fp["mtime_ns"]))
    assert make_run_id("h1", fingerprint(p)) != make_run_id("h1", fp)


def test_engine_does_not_import_ui() -> None:
    code = ("import sys, engine, engine.api, engine.supervisor, engine.worker, engine.pipeline;"
            "bad=[m for m in ('textual','rich') if m in sys.modules]; print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", out.stdout
