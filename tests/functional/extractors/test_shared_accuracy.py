"""Cut-detection accuracy on the real media in ../shared (skipped when absent)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.extractors_support.run import extract

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "media"
pytestmark = [pytest.mark.shared, pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/media is not present")]
CUT_ONLY = {"extract.modules": ["cut_detection"]}


def f1(found: list[int], truth: list[int], tol: int = 2) -> float:
    if not found and not truth:
        return 1.0
    matched, used = 0, set()
    for t in truth:
        hit = next((i for i, f in enumerate(found) if i not in used and abs(f - t) <= tol), None)
        if hit is not None:
            used.add(hit)
            matched += 1
    p = matched / len(found) if found else 0.0
    r = matched / len(truth) if truth else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def _cuts(name: str, tmp_path: Path) -> tuple[list[int], list[list[int]]]:
    manifest, _ = extract(SHARED / "video" / name, tmp_path, CUT_ONLY)
    s = manifest["components"]["cut_detection"]["summary"]
    return s["hard_cuts"], s["gradual"]


@pytest.mark.parametrize("name", ["cuts_shared.mp4", "bikes.mp4", "big_buck_bunny_0_30.webm", "bigbuckbunny.mp4"])
def test_hard_cut_f1(name: str, tmp_path: Path) -> None:
    truth = json.loads((SHARED / "media_truth.json").read_text())[f"video/{name}"]["hard_cuts"]
    found, _ = _cuts(name, tmp_path)
    assert f1(found, truth) >= 0.95, (found, truth)
    if not truth:
        assert found == []


def test_gradual_transitions_cuts_shared(tmp_path: Path) -> None:
    found, gradual = _cuts("cuts_shared.mp4", tmp_path)
    assert any(abs(b - 509) <= 2 for b in found) and any(abs(b - 517) <= 2 for b in found)  # 8-frame shot
    for first, last in ([256, 280], [409, 420]):
        assert any(abs(a - first) <= 3 and abs(b - last) <= 3 for a, b in gradual), gradual
    assert not any(256 <= c <= 280 or 409 <= c <= 420 for c in found)


def test_fade_from_black_is_not_a_hard_cut(tmp_path: Path) -> None:
    found, gradual = _cuts("big_buck_bunny_0_30.webm", tmp_path)
    assert not any(c <= 48 for c in found)
    assert any(a <= 2 and abs(b - 47) <= 3 for a, b in gradual)
