"""Batch inference: predictions for every processed video of a batch (``vidops predict --batch``).

Reads ``<workspace>/batches/<batch_id>/videos.jsonl`` (``platform_id``, ``video_id``, and
``run_id`` when the line carries it; otherwise the run id comes from the batch's
``state.jsonl``), joins a snapshots file (JSONL or a JSON list of snapshot-1 objects keyed by
``video_id`` and optional ``platform_id``), and writes one prediction document per line,
sorted by (platform_id, video_id). Videos without a finished run or a snapshot, or whose
snapshot is invalid (:func:`engine.model.predict.validate_snapshot`), are skipped and counted;
an unreadable snapshots file or video list raises :class:`BatchInputError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write_text
from engine.model import predict
from engine.model.artifacts import ModelRun
from engine.store import load_manifest


@dataclass
class BatchPrediction:
    lines: list[str]
    skipped: dict[str, str] = field(default_factory=dict)  # video key -> reason


class BatchInputError(ValueError):
    """The snapshots file or the batch's video list cannot be read (named with file:line)."""


def _jsonl(path: Path, text: str) -> list[tuple[int, Any]]:
    out = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((lineno, json.loads(line)))
        except ValueError as exc:
            raise BatchInputError(f"{path}:{lineno}: not valid JSON ({exc})") from None
    return out


def read_snapshots(path: str | Path) -> dict[tuple[str, str], dict[str, Any]]:
    """``{(platform_id or "", video_id): snapshot}``; every record must be an object with a ``video_id``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BatchInputError(f"--snapshots {p}: cannot read ({exc})") from None
    if text.lstrip().startswith("["):
        try:
            records = list(enumerate(json.loads(text), start=1))
        except ValueError as exc:
            raise BatchInputError(f"{p}: not a valid JSON list ({exc})") from None
        where = "item"
    else:
        records, where = _jsonl(p, text), "line"
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for n, rec in records:
        if not isinstance(rec, dict) or rec.get("video_id") in (None, ""):
            raise BatchInputError(f"{p} {where} {n}: expected a snapshot object with a video_id, got "
                                  f"{json.dumps(rec, default=str)[:80]}")
        out[(str(rec.get("platform_id") or ""), str(rec["video_id"]))] = rec
    return out


def _run_ids_from_state(batch_root: Path) -> dict[str, str]:
    from engine.state import replay

    state = replay(batch_root / "state.jsonl")
    return {k: v.run_id for k, v in state.videos.items() if v.run_id and v.status == "done"}


def predict_batch(run: ModelRun, batch_root: Path, snapshots_path: str | Path, result_store_root: Path) -> BatchPrediction:
    videos_path = batch_root / "videos.jsonl"
    videos = [v for _, v in _jsonl(videos_path, videos_path.read_text(encoding="utf-8"))]
    snapshots = read_snapshots(snapshots_path)
    from_state = _run_ids_from_state(batch_root) if (batch_root / "state.jsonl").is_file() else {}
    result = BatchPrediction(lines=[])
    todo: list[tuple[dict[str, Any], dict[str, Any], str, str]] = []
    for video in videos:
        pid, vid = str(video.get("platform_id", "")), str(video.get("video_id", ""))
        key = str(video.get("key") or f"{pid}__{vid}")
        run_id = video.get("run_id") or from_state.get(key)
        snap = snapshots.get((pid, vid)) or snapshots.get(("", vid))
        if not run_id:
            result.skipped[key] = "no finished run"
            continue
        if snap is None:
            result.skipped[key] = "no snapshot"
            continue
        run_dir = result_store_root / pid / vid / str(run_id)
        manifest = load_manifest(run_dir)
        if not manifest or manifest.get("status") != "complete":
            result.skipped[key] = f"run {run_id} not complete in {result_store_root}"
            continue
        predict.check_extractor_hash(run, manifest.get("config_hash"), f"run {run_dir}")
        try:
            row = predict.feature_row(run, {"video_id": vid, **snap}, str(run_dir))
        except predict.InvalidSnapshot as exc:  # one bad snapshot should not cost the whole batch
            result.skipped[key] = f"invalid snapshot: {exc}"
            continue
        todo.append((snap | {"video_id": vid}, row, str(run_id), pid))
    if todo:
        preds = predict.predict_rows(run, [t[1] for t in todo])
        docs = [predict.build_document(run, snap, row, preds, i, rid, pid) for i, (snap, row, rid, pid) in enumerate(todo)]
        docs.sort(key=lambda d: (str(d["platform_id"]), str(d["video_id"])))
        result.lines = [predict.render(d, indent=None) for d in docs]
    return result


def write_jsonl(path: str | Path, lines: list[str]) -> None:
    atomic_write_text(path, "".join(line + "\n" for line in lines))
