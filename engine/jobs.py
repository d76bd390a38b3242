"""Background jobs other than batches (dataset builds, training), run detached like a batch.

``start_job`` writes ``<workspace>/jobs/<job_id>/job.json`` and starts
``python -m engine.jobs JOB_DIR`` in a new session; the job writes its events to
``events.jsonl`` next to it (the same EventWriter format as a batch), so the console follows a
build or a training run live with the same incremental reader, and it survives the terminal.
The CLI's foreground ``dataset build`` and ``train`` write the same events to the same place.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_json
from engine.config import Settings, load_settings, with_workspace
from engine.events import EventWriter, read_events

EventFn = Callable[[dict[str, Any]], None]


def _run_dataset(settings: Settings, params: dict[str, Any], on_event: EventFn) -> dict[str, Any]:
    from engine.dataset.builder import BuildInputs, build_dataset

    store = params.get("result_store") or settings.paths.result_store or str(Path(settings.paths.workspace) / "result_store")
    inputs = BuildInputs(snapshots=params["snapshots"], out=params["out"], fmt=params.get("format", "generic"),
                         channels=params.get("channels"), result_store=store, csv=bool(params.get("csv", False)),
                         required_horizons=params.get("required_horizons"))
    result = build_dataset(settings, inputs, on_event)
    return {"out": str(result.out), "rows": len(result.table)}


def _run_train(settings: Settings, params: dict[str, Any], on_event: EventFn) -> dict[str, Any]:
    from engine.model.train import train

    root = Path(settings.model.artifacts_dir) if getattr(settings.model, "artifacts_dir", "") else Path(settings.paths.workspace) / "artifacts"
    run_dir = Path(params["out"]) if params.get("out") else root / params["run_id"]
    result = train(params["dataset"], settings.model, run_dir, run_id=run_dir.name, on_event=on_event)
    return {"run_dir": str(run_dir), "seconds": result.seconds}


def _run_pipeline(settings: Settings, params: dict[str, Any], on_event: EventFn) -> dict[str, Any]:
    from engine.workflow import Pipeline, PipelineSpec, demo_spec

    spec = demo_spec() if params.get("demo") else PipelineSpec(**params["spec"])
    summary = Pipeline(settings.paths.workspace, settings, spec, on_event).run()
    return {"summary": summary}


# kind -> function(settings, params, on_event); params are plain JSON.
JOB_KINDS: dict[str, Callable[[Settings, dict[str, Any], EventFn], dict[str, Any]]] = {
    "dataset": _run_dataset,
    "train": _run_train,
    "pipeline": _run_pipeline,
}


def jobs_dir(workspace: str | os.PathLike[str]) -> Path:
    return Path(workspace) / "jobs"


def new_job_id(kind: str) -> str:
    return f"{kind}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{time.time_ns() % 1_000_000:06d}"


def start_job(workspace: str | os.PathLike[str], kind: str, params: dict[str, Any],
              config_path: str | None = None) -> str:
    """Start a detached job; returns its id. Unknown kinds raise ValueError."""
    if kind not in JOB_KINDS:
        raise ValueError(f"unknown job kind {kind!r} (known: {', '.join(sorted(JOB_KINDS))})")
    job_id = new_job_id(kind)
    params = dict(params)
    params.setdefault("run_id", job_id)
    job_dir = jobs_dir(workspace) / job_id
    job_dir.mkdir(parents=True)
    atomic_write_json(job_dir / "job.json", {"job_id": job_id, "kind": kind, "params": params,
                                             "workspace": str(Path(workspace).resolve()), "config": config_path})
    with open(job_dir / "job.log", "ab") as log:
        subprocess.Popen([sys.executable, "-m", "engine.jobs", str(job_dir)], stdin=subprocess.DEVNULL,
                         stdout=log, stderr=log, start_new_session=True, close_fds=True)
    return job_id


def run_job(job_dir: str | os.PathLike[str]) -> int:
    d = Path(job_dir)
    spec = json.loads((d / "job.json").read_text())
    settings = with_workspace(load_settings(spec.get("config")), spec["workspace"])
    with EventWriter(d / "events.jsonl") as writer:
        def on_event(event: dict[str, Any]) -> None:
            fields = {k: v for k, v in event.items() if k != "type"}
            fields["job_id"] = spec["job_id"]  # the job's own id wins over a nested stage's
            writer.emit(str(event["type"]), **fields)

        try:
            result = JOB_KINDS[spec["kind"]](settings, spec["params"], on_event)
        except Exception as exc:  # noqa: BLE001 - recorded for the console, exit code says it failed
            writer.emit("job_failed", job_id=spec["job_id"], kind=spec["kind"], message=f"{type(exc).__name__}: {exc}")
            return 1
        writer.emit("job_finished", job_id=spec["job_id"], kind=spec["kind"], **result)
    return 0


def list_jobs(workspace: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Jobs newest first: id, kind (from the id prefix), state from their last event."""
    root = jobs_dir(workspace)
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True):
        events_path = d / "events.jsonl"
        if not events_path.is_file():
            continue
        kind = d.name.split("-", 1)[0]
        last = read_events(events_path).events[-1:] or [{}]
        t = str(last[0].get("type", ""))
        state = "failed" if t.endswith("_failed") else "finished" if t.endswith("_finished") else "running"
        out.append({"job_id": d.name, "kind": kind, "state": state, "events": str(events_path),
                    "updated_at": events_path.stat().st_mtime})
    return out


def job_events(workspace: str | os.PathLike[str], job_id: str, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    res = read_events(jobs_dir(workspace) / job_id / "events.jsonl", offset)
    return res.events, res.offset


if __name__ == "__main__":
    sys.exit(run_job(sys.argv[1]))
