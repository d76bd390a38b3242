"""`validate_run` / `vidops validate` on damaged run directories: every problem is reported
(exit 1), never a traceback (an operator validates copied or half-written result stores)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from console.cli import main
from engine.extractors.validate import validate_run
from tests.extractors_support.run import extract


@pytest.fixture(scope="module")
def good_run(silent_video: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, run = extract(silent_video[0], tmp_path_factory.mktemp("rs"), {"extract.modules": ["cut_detection", "shot_quality"]})
    assert validate_run(run.path) == []
    return run.path


def _edit_manifest(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def edit(run: Path) -> None:
        m = json.loads((run / "manifest.json").read_text())
        change(m)
        (run / "manifest.json").write_text(json.dumps(m))
    return edit


def _truncate_npz(run: Path) -> None:
    npz = run / "shot_quality.npz"
    npz.write_bytes(npz.read_bytes()[:100])  # a partial copy / full disk


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated npz": (_truncate_npz, "shot_quality: shot_quality.npz unreadable (BadZipFile"),
    "empty npz": (lambda run: (run / "shot_quality.npz").write_bytes(b""), "shot_quality: shot_quality.npz unreadable"),
    "components a list": (_edit_manifest(lambda m: m.update(components=[1, 2])), "manifest.components: list"),
    "component null": (_edit_manifest(lambda m: m["components"].update(shot_quality=None)),
                       "shot_quality: manifest entry is not an object"),
    "frame_count a string": (_edit_manifest(lambda m: m["video"].update(frame_count="abc")),
                             "video.frame_count: 'abc' is not a finite number"),
    "arrays null entry": (_edit_manifest(lambda m: m["components"]["shot_quality"]["arrays"].update(sharpness=None)),
                          "shot_quality.sharpness: NPZ float32"),
    "summary a string": (_edit_manifest(lambda m: m["components"]["shot_quality"].update(summary="x")),
                         "shot_quality.summary: str, expected an object"),
    "npz outside the run": (_edit_manifest(lambda m: m["components"]["shot_quality"].update(npz="../../x.npz")),
                            "shot_quality: npz '../../x.npz' is not a file of the run directory"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_run_is_reported_not_a_traceback(good_run: Path, tmp_path: Path, case: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    damage, expected = DAMAGE[case]
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    damage(run)
    problems = validate_run(run)
    assert any(p.startswith(expected) for p in problems), problems
    assert main(["validate", str(run)]) == 1
    assert expected in capsys.readouterr().out


def test_partial_run_of_a_failed_video_is_not_valid(good_run: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # the runner validates before its commit point; an operator validating the run directory
    # of a video that then failed (a truncated file) was told "valid"
    run = tmp_path / "run"
    shutil.copytree(good_run, run)
    _edit_manifest(lambda m: m.update(status="partial"))(run)
    assert validate_run(run) == []  # the artifacts themselves are fine
    assert main(["validate", str(run)]) == 1
    assert "manifest status 'partial': the extraction did not finish" in capsys.readouterr().out
