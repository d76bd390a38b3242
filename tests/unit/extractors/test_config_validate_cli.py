"""Registry/config validation, the validator on corrupted artifacts, the CLI, TorchScript model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from console.cli import main
from engine.atomic import atomic_write_npz
from engine.config import ConfigError, parse_settings
from engine.extractors import component_versions, registry
from engine.extractors.base import ModuleResult
from engine.extractors.settings import _DEFAULT_MODULES, ExtractSettings
from engine.extractors.validate import check_result, validate_run
from engine.extractors.visual.cut_detection import CutDetection
from tests.extractors_support.run import extract


def test_default_modules_and_versions() -> None:
    assert _DEFAULT_MODULES == registry.DEFAULT_MODULES
    versions = component_versions(ExtractSettings(modules=["tempo", "cut_detection", "loudness"]))
    assert list(versions) == ["loudness", "tempo", "cut_detection"]  # registry order


@pytest.mark.parametrize(("extract", "needle"), [
    ({"modules": ["cut_detection", "nope"]}, "unknown module 'nope'"),
    ({"params": {"cut_detection": {"bogus": 1}}}, "extract.params.cut_detection.bogus"),
    ({"params": {"cut_detection": {"threshold": "high"}}}, "extract.params.cut_detection.threshold"),
    ({"params": {"cut_detection": {"threshold": 3.0}}}, "threshold must be in (0,1)"),
    ({"params": {"nomodule": {}}}, "extract.params.nomodule"),
    ({"modules": ["cut_detecton"]}, "did you mean 'cut_detection'?"),
    ({"params": {"loudnes": {}}}, "did you mean 'loudness'?"),
    ({"params": {"cut_detection": {"treshold": 0.2}}}, "did you mean 'threshold'?"),
])
def test_config_errors_name_the_key(extract: dict, needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings({"extract": extract}, "cfg.toml")
    assert needle in str(err.value) and "cfg.toml" in str(err.value)


def test_valid_params_accepted() -> None:
    s = parse_settings({"extract": {"params": {"cut_detection": {"threshold": 0.2, "window": 10}}}})
    assert s.extract.params["cut_detection"]["threshold"] == 0.2


def test_check_result_catches_nan_and_shapes() -> None:
    n = 5
    arrays = {k: np.zeros(n, np.float32) for k in ("score", "pixel_diff", "luma")}
    arrays.update(hard_cuts=np.asarray([3, 2], np.int64), hard_cut_scores=np.zeros(2, np.float32),
                  gradual=np.zeros((0, 2), np.int64), gradual_scores=np.zeros(0, np.float32),
                  gradual_kind=np.zeros(0, np.int8), shots=np.zeros((1, 2), np.int64))
    assert check_result(CutDetection, ModuleResult(dict(arrays), {"n_hard_cuts": 2, "n_gradual": 0, "n_shots": 1}), 5) == [
        "cut_detection.hard_cuts: not strictly increasing"]
    arrays["luma"] = np.asarray([0, np.nan, 0, 0, 0], np.float32)
    arrays["hard_cut_scores"] = np.zeros(3, np.float32)
    problems = check_result(CutDetection, ModuleResult(arrays, {}), 5)
    assert any("NaN" in p for p in problems) and any("'c'" in p for p in problems)
    assert any("summary lacks" in p for p in problems)


def test_validator_catches_corrupted_artifact(silent_video, tmp_path: Path) -> None:
    path, _ = silent_video
    _, run = extract(path, tmp_path, {"extract.modules": ["cut_detection", "shot_quality"]})
    assert validate_run(run.path) == []
    arrays = run.arrays("shot_quality")
    arrays["sharpness"] = arrays["sharpness"].astype(np.float64)
    arrays["exposure"][0] = np.nan
    atomic_write_npz(run.path / "shot_quality.npz", arrays)
    (run.path / "cut_detection.npz").unlink()
    problems = validate_run(run.path)
    assert "cut_detection: cut_detection.npz missing" in problems
    assert any("shot_quality.sharpness" in p and "float64" in p for p in problems)
    assert any("shot_quality.exposure: contains NaN" in p for p in problems)
    assert main(["validate", str(run.path)]) == 1
    m = json.loads((run.path / "manifest.json").read_text())
    m["schema_version"] = 99
    (run.path / "manifest.json").write_text(json.dumps(m))
    assert any("schema_version" in p for p in validate_run(run.path))


def test_cli_extract_json_and_errors(silent_video, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = silent_video
    out = tmp_path / "out"
    assert main(["extract", str(path), "--out", str(out), "--only", "cut_detection,video_pacing", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    cut = res["components"]["cut_detection"]
    assert cut["hard_cuts"] == [30] and cut["gradual"] == [] and cut["status"] == "done" and cut["wall_s"] >= 0
    assert res["wall_s"] > 0 and set(res["components"]) == {"probe", "cut_detection", "video_pacing"}
    run_dir = Path(res["run_dir"])
    assert main(["validate", str(run_dir)]) == 0
    assert main(["extract", str(tmp_path / "missing.mp4")]) == 2
    assert "missing.mp4" in capsys.readouterr().err
    bad = tmp_path / "bad.mp4"
    bad.write_text("not a video")
    assert main(["extract", str(bad)]) == 1  # a permanent failure of the video, as in a batch
    err = capsys.readouterr().err
    assert "bad.mp4" in err and "not_video" in err
    assert main(["validate", str(tmp_path / "nodir")]) == 2


def _tiny_model(tmp_path: Path) -> tuple[Path, Path]:
    import torch

    class Tiny(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(3, 3)
            with torch.no_grad():
                self.fc.weight.copy_(torch.eye(3) * 10)
                self.fc.bias.zero_()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x.mean(dim=(2, 3)))  # mean R, G, B -> logits

    model = tmp_path / "tiny.pt"
    torch.jit.save(torch.jit.script(Tiny()), str(model))
    labels = tmp_path / "labels.txt"
    labels.write_text("red\ngreen\nblue\n")
    return model, labels


def test_cli_extract_json_run_dir_is_absolute(silent_video, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    # --out relative to the working directory: the printed run_dir must still be usable
    # from elsewhere (it was echoed relative)
    path, _ = silent_video
    monkeypatch.chdir(tmp_path)
    assert main(["extract", str(path), "--out", "rel", "--only", "cut_detection", "--json"]) == 0
    run_dir = Path(json.loads(capsys.readouterr().out)["run_dir"])
    assert run_dir.is_absolute() and (run_dir / "manifest.json").is_file()


def test_scene_classification_runs_a_torchscript_model(silent_video, tmp_path: Path) -> None:
    path, _ = silent_video
    manifest, _ = extract(path, tmp_path, {"extract.modules": ["scene_classification"]})
    comp = manifest["components"]["scene_classification"]
    assert comp["status"] == "skipped" and "no model configured" in comp["reason"]
    model, labels = _tiny_model(tmp_path)
    params = {"scene_classification": {"model_path": str(model), "labels_path": str(labels), "input_size": 32}}
    manifest, run = extract(path, tmp_path / "b", {"extract.modules": ["scene_classification"], "extract.params": params})
    comp = manifest["components"]["scene_classification"]
    assert comp["status"] == "done" and comp["summary"]["labels"] == ["red", "green", "blue"]
    a = run.arrays("scene_classification")
    assert a["probs"].shape == (len(a["sample_index"]), 3) and np.allclose(a["probs"].sum(axis=1), 1.0, atol=1e-5)
    assert comp["summary"]["top_label"] in ("red", "green", "blue")


def test_scene_classification_model_loads_once_per_process(silent_video, tmp_path: Path) -> None:
    from engine import extractors
    from engine.config import apply_overrides, load_settings
    from engine.extractors.visual import scene_classification as sc

    path, _ = silent_video
    model, labels = _tiny_model(tmp_path)
    params = {"scene_classification": {"model_path": str(model), "labels_path": str(labels), "input_size": 32}}
    overrides = {"extract.modules": ["scene_classification"], "extract.params": params}
    sc._load.cache_clear()
    extractors.warm_up(apply_overrides(load_settings(None), overrides).extract)  # what a pool worker does
    assert sc._load.cache_info().misses == 1
    for k in range(2):  # two videos: no further load
        manifest, _ = extract(path, tmp_path / f"v{k}", overrides)
        assert manifest["components"]["scene_classification"]["status"] == "done"
    assert (sc._load.cache_info().misses, sc._load.cache_info().hits) == (1, 2)
    st = model.stat()  # a replaced model file (new modification time) is loaded afresh
    os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    extract(path, tmp_path / "v2", overrides)
    assert sc._load.cache_info().misses == 2


def test_scene_classification_unloadable_model_fails_the_video(silent_video, tmp_path: Path) -> None:
    path, _ = silent_video
    _, labels = _tiny_model(tmp_path)
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torchscript archive")
    params = {"scene_classification": {"model_path": str(bad), "labels_path": str(labels), "input_size": 32}}
    with pytest.raises(Exception, match="cannot load TorchScript model"):
        extract(path, tmp_path / "x", {"extract.modules": ["scene_classification"], "extract.params": params})


@pytest.mark.gpu
def test_scene_classification_on_cuda(silent_video, tmp_path: Path, cuda: None) -> None:
    path, _ = silent_video
    model, labels = _tiny_model(tmp_path)
    params = {"scene_classification": {"model_path": str(model), "labels_path": str(labels), "input_size": 32}}
    manifest, _ = extract(path, tmp_path / "g", {"extract.modules": ["scene_classification"], "extract.params": params,
                                                  "extract.device": "cuda"})
    assert manifest["components"]["scene_classification"]["status"] == "done"


def test_cli_extract_summary_without_modules(silent_video, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # with [extract] modules = [] only the probe runs: the header line reads its facts (it printed
    # "NonexNone None fps, None frames, None s")
    path, _ = silent_video
    cfg = tmp_path / "probe_only.toml"
    cfg.write_text("[extract]\nmodules = []\n")
    assert main(["--config", str(cfg), "extract", str(path)]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert "None" not in head and " fps, 60 frames, " in head, head
