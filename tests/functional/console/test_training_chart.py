"""The training chart stays readable with the default nine targets (3 metrics x 3 horizons).

All targets were drawn at once: 18 curves whose colours repeat (some white on the white canvas)
and no legend at all (plotext drops a legend that does not fit), so no curve could be told
apart. The chart shows two targets at a time with their legend; `n` shows the next two.
"""

from __future__ import annotations

from pathlib import Path

from support.console_pilot import (
    console_app,
    screen_text,
    show_tab,
    tab_text,
    wait_for_dashboard,
    wait_for_text,
)

from console.synthetic import T0, _ev, write_finished_batch
from engine.events import EventWriter

TARGETS = [f"{m}_{h}d" for m in ("views", "likes", "comments") for h in (7, 14, 21)]


def write_train_job(ws: Path, skipped: dict[str, str] | None = None) -> None:
    """A training job over the nine targets: loss curves for each, or for all but ``skipped``
    (target -> reason), which get a ``train_target_skipped`` event as ``vidops train`` emits."""
    skipped = skipped or {}
    job = ws / "jobs" / "train-20260921T121000Z-000002"
    job.mkdir(parents=True)
    with EventWriter(job / "events.jsonl", fsync_interval_s=3600) as w:
        w.write(_ev("train_started", T0, run_id="run1", run_dir="artifacts/run1", targets=TARGETS, rows=900))
        for j, target in enumerate(TARGETS):
            if target in skipped:
                w.write(_ev("train_target_skipped", T0 + 2, target=target, reason=skipped[target]))
                continue
            for it in range(0, 60, 10):
                loss = 2.0 / (1 + it / 40) + 0.1 * j
                w.write(_ev("train_progress", T0 + 1, target=target, iteration=it, train_loss=round(loss, 4),
                            val_loss=round(loss * 1.1, 4)))


async def test_chart_shows_two_targets_with_a_legend_and_n_pages(tmp_path: Path) -> None:
    write_finished_batch(tmp_path)
    write_train_job(tmp_path)
    app = console_app(tmp_path, refresh_hz=2.0)
    async with app.run_test(size=(100, 30)) as pilot:
        dash = await wait_for_dashboard(app, pilot)
        await pilot.pause(0.2)
        show_tab(dash, "tab-training")
        await wait_for_text(app, pilot, "views_7d train", pause=0.05)
        text = screen_text(app)
        assert "views_7d train" in text and "views_14d val" in text, text  # the legend
        assert "likes_7d train" not in text
        assert "targets 1-2 of 9" in text
        await pilot.press("n")
        await pilot.pause(0.3)
        text = screen_text(app)
        assert "views_21d train" in text and "likes_7d val" in text and "targets 3-4 of 9" in text, text


async def test_header_says_which_targets_were_not_trained_and_why(tmp_path: Path) -> None:
    # What 'vidops train' emits on the US bench: 7d trained, 14d/21d without training rows.
    write_finished_batch(tmp_path)
    why = "too few rows (train 0, validation 15); refit needs an early-stopped fit first"
    write_train_job(tmp_path, {t: why for t in TARGETS if not t.endswith("_7d")})
    app = console_app(tmp_path, refresh_hz=2.0)
    async with app.run_test(size=(160, 40)) as pilot:
        text = await tab_text(app, pilot, "tab-training", "not trained (6)")
        assert "targets: views_7d, likes_7d, comments_7d" in text, text
        assert "views_14d: too few rows (train 0, validation 15)" in text, text
