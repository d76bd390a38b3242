"""``python -m engine.config_doc`` replaces config.toml and docs/config.md atomically: a write that
fails part-way (here: the file size limit, as a full disk would) leaves the previous files whole."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]

# Run main() with REPO pointed at tmp_path and writes capped at LIMIT bytes per file (EFBIG
# past it; SIGXFSZ ignored so the write fails instead of killing the process).
_SCRIPT = textwrap.dedent("""
    import resource, signal, sys
    from pathlib import Path
    import engine.config_doc as cd
    cd.REPO = Path(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    cd.main()
""")


def test_a_write_failing_midway_leaves_the_previous_config_whole(tmp_path: Path) -> None:
    old_toml = "# previous config.toml\n[pool]\nworkers = 12\n"
    old_md = "# previous docs/config.md\n"
    (tmp_path / "docs").mkdir()
    (tmp_path / "config.toml").write_text(old_toml)
    (tmp_path / "docs" / "config.md").write_text(old_md)

    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path), "512"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)

    assert proc.returncode != 0, "the capped write should have failed"
    assert "File too large" in proc.stderr
    assert (tmp_path / "config.toml").read_text() == old_toml  # not a torn 512-byte prefix
    assert (tmp_path / "docs" / "config.md").read_text() == old_md
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml", "docs"]  # no temp file left
    assert sorted(p.name for p in (tmp_path / "docs").iterdir()) == ["config.md"]


def test_main_writes_both_files(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", _SCRIPT, str(tmp_path), str(1 << 30)], cwd=REPO,
                          capture_output=True, text=True, timeout=120)

    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "config.toml").read_text() == (REPO / "config.toml").read_text()
    assert (tmp_path / "docs" / "config.md").read_text() == (REPO / "docs" / "config.md").read_text()
