"""The header says how to continue a batch that no supervisor runs (b is not in the footer)."""

from __future__ import annotations

from console.state import BatchSummary
from console.widgets.batch_header import BatchHeader

COUNTS = {"total": 3, "queued": 3, "running": 0, "done": 0, "skipped": 0, "failed": 0}


def _line(state: str, alive: bool) -> str:
    header = BatchHeader()
    header.summary = BatchSummary("b1", state, alive, COUNTS, 0.0, None, None, None)
    return header.render().plain.splitlines()[0]


def test_resumable_states_name_the_key_that_resumes() -> None:
    for state in ("created", "interrupted", "stopped", "error"):
        assert "b, enter: resume" in _line(state, alive=False), state
    assert "resume" not in _line("finished", alive=False)
    assert "resume" not in _line("running", alive=True)
