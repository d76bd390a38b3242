"""Every custom message of the console, as small documented dataclasses.

Background (thread) workers post these; handlers on the UI thread update widgets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from console.jobs_state import DatasetView, PipelineView, TrainView
from console.state import BatchDelta


@dataclass
class BatchPolled(Message):
    """The poll worker read new batch events (or found none): what changed."""

    delta: BatchDelta


@dataclass
class JobsPolled(Message):
    """Copies of the newest dataset build, training run and pipeline views (None: nothing ran yet)."""

    dataset: DatasetView | None
    train: TrainView | None
    pipeline: PipelineView | None = None


@dataclass
class PollFailed(Message):
    """A poll raised; the console keeps polling and says so."""

    error: str


@dataclass
class CommandDone(Message):
    """An engine command (retry, pause, stop, start a job...) finished."""

    action: str
    ok: bool
    text: str
    result: Any = None


@dataclass
class BatchesListed(Message):
    """The batches of the workspace, for the Resume screen."""

    batches: list[dict[str, Any]]


@dataclass
class VideoDetailLoaded(Message):
    """Manifest components, log tail and traceback of one video (engine.api.video_detail)."""

    detail: dict[str, Any]
