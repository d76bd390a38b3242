"""`vidops demo --no-ui` end to end on the bundled data, then again (every stage skipped)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pandas as pd

REPO = Path(__file__).resolve().parents[3]


def demo(ws: Path | str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "VIDOPS_FAULTS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "console.cli", "--workspace", str(ws), "--config",
                           str(REPO / "config.toml"), "demo", "--no-ui"],
                          capture_output=True, text=True, timeout=600, env=env, cwd=cwd)


def written(stdout: str) -> dict[str, str]:
    """The ``written:`` list at the end of the demo's output: {what: path}."""
    lines = stdout.split("\nwritten:\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return dict(line.split(maxsplit=1) for line in lines)


def test_demo_runs_every_stage_then_skips_them(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    out = demo(ws)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for stage in ("extract", "dataset", "train", "predict"):
        assert f"== {stage}: done" in out.stdout, stage
    assert "Data used:" in out.stdout
    # One form for every path: the workspace is not under the current directory, so all absolute
    # (the batch, features and summary lines gave the workspace as given, the others resolved).
    paths = written(out.stdout)
    assert set(paths) == {"batch", "features", "dataset", "model", "summary"}
    assert all(p.startswith(str(ws) + "/") for p in paths.values()), paths
    assert "2 videos, 2 workers" in out.stdout and "1928 rows in" in out.stdout
    summary = json.loads((ws / "pipelines" / "demo" / "summary.json").read_text())
    # Extraction: both bundled clips processed with every default module, manifests complete.
    manifests = sorted((ws / "result_store" / "local").glob("*/*/manifest.json"))
    assert [m.parents[1].name for m in manifests] == ["bbb_0_30", "bbb_5s"]
    manifest_schema = json.loads((REPO / "schemas" / "manifest.schema.json").read_text())
    for m in manifests:
        doc = json.loads(m.read_text())
        jsonschema.validate(doc, manifest_schema)
        assert doc["status"] == "complete"
        assert doc["components"]["cut_detection"]["status"] == "done"
        assert doc["components"]["loudness"]["status"] == "done"
    # Dataset from the bundled trending sample.
    meta = json.loads((Path(summary["dataset"]) / "dataset_meta.json").read_text())
    table = pd.read_parquet(Path(summary["dataset"]) / "dataset.parquet")
    jsonschema.validate(meta, json.loads((REPO / "schemas" / "dataset_meta.schema.json").read_text()))
    assert len(table) == 1928 and meta["content_hash"]
    assert list(table.columns) == [c["name"] for c in meta["columns"]]
    assert int(table["mask_views_7d"].sum()) > 500
    # Model artifacts.
    model = Path(summary["model"])
    assert (model / "model_views_7d.cbm").is_file() and (model / "metrics.json").is_file()
    for target, why in json.loads((model / "metrics.json").read_text())["skipped"].items():
        assert f"not trained {target}: {why}" in out.stdout  # said as it happens, not only in the report
    # The prediction document is valid against the repository's schema.
    (pred_path,) = summary["predictions"]
    pred = json.loads(Path(pred_path).read_text())
    schema = json.loads((REPO / "schemas" / "prediction.schema.json").read_text())
    jsonschema.validate(pred, schema)
    assert pred["video_id"] == "bbb_5s" and pred["predictions"]["views"]["7d"]["value"] > 0
    # Second run: every stage is complete for the same inputs and config, and the output is identical.
    # Run from the workspace's folder with --workspace ws: every written path is relative to it.
    again = demo("ws", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    paths = written(again.stdout)
    assert all(p.startswith("ws/") for p in paths.values()), paths  # the dataset and model were absolute
    assert paths["summary"] == "ws/pipelines/demo/summary.json"
    for stage in ("extract", "dataset", "train"):
        assert f"== {stage}: skipped" in again.stdout, stage
    assert json.loads(Path(pred_path).read_text()) == pred
