"""Whole-system runs: extract → dataset → train → predict, each stage resumable.

A stage whose outputs are complete for the same inputs and config is skipped: the extraction
batch id is derived from the list file and the extractor config (so a re-run resumes or skips
it), and the dataset and model stages record a key (hash of their inputs and settings) in a
``stage.json`` next to their outputs. Stage progress is written as events to
``jobs/<pipeline job>/events.jsonl``; the dataset build and the training write their own job
logs, so the console shows every stage live.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_json, atomic_write_text
from engine.config import Settings
from engine.events import EventWriter

EventFn = Callable[[dict[str, Any]], None]
REPO = Path(__file__).resolve().parent.parent



class UnknownPredictKey(ValueError):
    """A ``--predict`` key that names no finished video of the pipeline's batch."""

@dataclass
class PipelineSpec:
    name: str
    snapshots: str
    fmt: str = "generic"
    videos: str | None = None  # batch list; None = no extraction stage
    channels: str | None = None
    required_horizons: list[int] | None = None
    predict: list[dict[str, Any]] = field(default_factory=list)  # [{"video_key": ..., "snapshot": {...}}]


def demo_spec() -> PipelineSpec:
    """The bundled demo: CC-BY clips + a CC0 sample of real trending snapshots."""
    ex = REPO / "examples"
    if not (ex / "videos.csv").is_file():
        raise FileNotFoundError(f"bundled demo data not found under {ex}; run the demo from a vidops checkout")
    snapshot = json.loads((ex / "snapshot1.json").read_text())
    return PipelineSpec(name="demo", snapshots=str(ex / "trending_sample" / "US_sample.csv.gz"), fmt="trending",
                        videos=str(ex / "videos.csv"), required_horizons=[],
                        predict=[{"video_key": "local__bbb_5s", "snapshot": snapshot}])


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _key(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _stage_done(directory: Path, key: str, required: str) -> bool:
    try:
        stage = json.loads((directory / "stage.json").read_text())
    except (OSError, ValueError):
        return False
    return stage.get("key") == key and (directory / required).exists()


class Pipeline:
    def __init__(self, workspace: str | os.PathLike[str], settings: Settings, spec: PipelineSpec,
                 on_event: EventFn | None = None, batch_listeners: list[Any] | None = None) -> None:
        from engine.config import with_workspace

        self.ws = Path(workspace).resolve()
        self.settings = with_workspace(settings, str(self.ws))
        self.spec = spec
        self.root = self.ws / "pipelines" / spec.name
        self.on_event = on_event or (lambda _e: None)
        self.batch_listeners = batch_listeners or []
        self.summary: dict[str, Any] = {"pipeline": spec.name, "workspace": str(self.ws), "stages": {}}

    def batch_id(self) -> str | None:
        if not self.spec.videos:
            return None
        from engine.pipeline import settings_hash

        return f"{self.spec.name}-{_key(_sha256_file(self.spec.videos), settings_hash(self.settings))[:12]}"

    def _stage(self, stage: str, status: str, **fields: Any) -> None:
        self.summary["stages"].setdefault(stage, {}).update(status=status, **fields)
        self.on_event({"type": "pipeline_stage", "pipeline": self.spec.name, "stage": stage, "status": status, **fields})

    def _job(self, kind: str) -> tuple[EventWriter, EventFn, str]:
        from engine.jobs import jobs_dir, new_job_id

        job_id = new_job_id(kind)
        writer = EventWriter(jobs_dir(self.ws) / job_id / "events.jsonl")

        def emit(event: dict[str, Any]) -> None:
            writer.emit(str(event["type"]), **{**{k: v for k, v in event.items() if k != "type"}, "job_id": job_id})
            self.on_event(event)

        return writer, emit, job_id

    # -- stages -------------------------------------------------------------------------
    def extract(self) -> dict[str, str]:
        """Run, resume or skip the extraction batch; returns {video_key: result run dir}."""
        from engine import api
        from engine.batch import BatchPaths, batches_dir
        from engine.state import replay

        batch_id = self.batch_id()
        if batch_id is None:
            self._stage("extract", "skipped", reason="no video list")
            return {}
        paths = BatchPaths(batches_dir(self.ws) / batch_id)
        if paths.root.is_dir() and not replay(paths.state).unfinished() and paths.state.exists():
            self._stage("extract", "skipped", reason="complete for the same list and extractor config", batch_id=batch_id)
        else:
            if not paths.root.is_dir():
                api.prepare_batch(self.ws, self.settings, self.spec.videos or "", batch_id)
            self._stage("extract", "running", batch_id=batch_id)
            code = api.run_foreground(paths, self.batch_listeners)
            if code == 130:
                raise KeyboardInterrupt
            self._stage("extract", "done", batch_id=batch_id, exit_code=code)
        state = replay(paths.state)
        store = Path(self.settings.paths.result_store or self.ws / "result_store")
        runs = {}
        for v in state.videos.values():
            if v.status in ("done", "skipped") and v.run_id:
                runs[v.key] = str(store / v.platform_id / v.video_id / v.run_id)
        return runs

    def _job_stage(self, stage: str, out: Path, key: str, required: str, where: dict[str, str],
                   params: dict[str, Any]) -> Path:
        """Skip ``stage`` when ``out`` holds its outputs for ``key``; else run its job and record the key."""
        from engine.jobs import JOB_KINDS

        if _stage_done(out, key, required):
            self._stage(stage, "skipped", reason="complete for the same inputs and config", **where)
            return out
        self._stage(stage, "running", **where)
        writer, emit, job_id = self._job(stage)
        with writer:
            JOB_KINDS[stage](self.settings, params, emit)
        atomic_write_json(out / "stage.json", {"key": key, "job_id": job_id, "finished_at": time.time()})
        self._stage(stage, "done", stage_job_id=job_id, **where)
        return out

    def dataset(self, runs: dict[str, str]) -> Path:
        out = self.root / "dataset"
        key = _key("dataset", _sha256_file(self.spec.snapshots), self.spec.fmt,
                   _sha256_file(self.spec.channels) if self.spec.channels else None, self.spec.required_horizons,
                   asdict(self.settings.dataset), sorted(runs.values()))
        params = {"snapshots": self.spec.snapshots, "format": self.spec.fmt, "channels": self.spec.channels,
                  "out": str(out), "required_horizons": self.spec.required_horizons}
        return self._job_stage("dataset", out, key, "dataset_meta.json", {"out": str(out)}, params)

    def train(self, dataset_dir: Path) -> Path:
        meta = json.loads((dataset_dir / "dataset_meta.json").read_text())
        key = _key("train", meta.get("content_hash"), asdict(self.settings.model))
        run_dir = self.ws / "artifacts" / f"{self.spec.name}-{key[:12]}"
        params = {"dataset": str(dataset_dir), "out": str(run_dir)}
        return self._job_stage("train", run_dir, key, "metrics.json", {"run_dir": str(run_dir)}, params)

    def predict(self, run_dir: Path, runs: dict[str, str]) -> list[Path]:
        from engine.model.artifacts import load_run
        from engine.model.predict import predict_one, render

        if not self.spec.predict:
            self._stage("predict", "skipped", reason="nothing to predict")
            return []
        model = load_run(run_dir)
        if self.spec.videos:  # a key that names no finished video would predict without its video features
            unknown = [item["video_key"] for item in self.spec.predict if item["video_key"] not in runs]
            if unknown:
                raise UnknownPredictKey(
                    f"--predict {', '.join(unknown)}: no finished video of the batch has this key "
                    f"(finished: {', '.join(sorted(runs)[:10]) or 'none'}; keys are platform_id__video_id); "
                    "the dataset and model are kept, rerun with a correct key")
        written = []
        for item in self.spec.predict:
            key = item["video_key"]
            result_dir = runs.get(key)
            run_id = Path(result_dir).name if result_dir else None
            doc = predict_one(model, item["snapshot"], result_dir, run_id, item["snapshot"].get("platform_id"))
            path = self.root / f"prediction_{key}.json"
            atomic_write_text(path, render(doc) + "\n")
            written.append(path)
        self._stage("predict", "done", files=[str(p) for p in written])
        return written

    def run(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        runs = self.extract()
        dataset_dir = self.dataset(runs)
        run_dir = self.train(dataset_dir)
        predictions = self.predict(run_dir, runs)
        self.summary.update(batch_id=self.batch_id(), dataset=str(dataset_dir), model=str(run_dir),
                            predictions=[str(p) for p in predictions], wall_s=round(time.perf_counter() - t0, 1))
        atomic_write_json(self.root / "summary.json", self.summary)
        self.on_event({"type": "pipeline_finished", **self.summary})
        return self.summary
