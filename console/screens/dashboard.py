"""The dashboard of one batch: header, and tabs for videos, workers, system, alerts, the
pipeline, dataset and training. Polling follows the Dolphie pattern: one thread worker reads the event logs
from their offsets and posts a message; the next poll is scheduled only after that message
was handled, so polls never overlap.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Input, Static, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from console.jobs_state import JobsFollower
from console.messages import BatchPolled, CommandDone, JobsPolled, PollFailed
from console.screens.confirm import ConfirmScreen
from console.screens.detail import VideoDetailScreen
from console.screens.failed import FailedScreen
from console.screens.job_dialogs import DatasetDialog, TrainDialog
from console.state import BatchFollower, BatchSummary
from console.widgets.alerts_table import AlertsTable
from console.widgets.batch_header import BatchHeader
from console.widgets.dataset_panel import DatasetPanel
from console.widgets.keys_footer import KeysFooter
from console.widgets.pipeline_panel import PipelinePanel
from console.widgets.system_panel import SystemPanel
from console.widgets.training_panel import TrainingPanel
from console.widgets.videos_table import VideosTable
from console.widgets.workers_table import WorkersTable

LIVE_ONLY = {"pause", "stop"}


def _reply_text(action: str, result: Any, ok_text: str) -> str:
    """What a successful reply says happened; ``ok_text`` assumes the command did its job."""
    if not isinstance(result, dict):
        return ok_text
    if result.get("message"):  # e.g. a retry with nothing to re-queue says why ({"resumed": false, ...})
        return str(result["message"])
    if result.get("requeued") == []:  # a live supervisor found no failed video to re-queue
        hint = " (permanent failures need 'Retry all, permanent too')" if action == "retry all" else ""
        return "nothing re-queued: no failed video matched" + hint
    return ok_text


class DashboardScreen(Screen[None]):
    BINDINGS = [
        Binding("r", "retry", "Retry", id="retry", tooltip="Retry the selected failed video"),
        Binding("R", "retry_all", "All", id="retry_all", tooltip="Retry all failed videos (confirm)"),
        Binding("p", "pause", "Pause", id="pause", tooltip="Pause scheduling of new videos (running videos finish)"),
        # The same key on a paused batch: the footer names what p does now (check_action hides the other).
        Binding("p", "resume_scheduling", "Resume", id="resume_scheduling", tooltip="Resume scheduling (a paused batch)"),
        Binding("s", "stop", "Stop", id="stop", tooltip="Stop the batch (confirm); resume later from b"),
        Binding("f", "cycle_filter", "Filter", id="filter", tooltip="Cycle the filter: all, running, failed, done"),
        Binding("slash", "search", "Search", id="search", key_display="/", tooltip="Search videos by id or error class"),
        Binding("a", "alerts", "Alerts", id="alerts", show=False, tooltip="Show the alerts tab"),
        Binding("k", "acknowledge", "Ack", id="acknowledge", tooltip="Acknowledge all alerts", show=False),
        Binding("F", "failed", "Failed", id="failed", tooltip="Failed videos screen"),
        Binding("enter", "detail", "Detail", id="detail", tooltip="Detail of the selected video", show=False),
        Binding("b", "batches", "Batches", id="batches", show=False, tooltip="Batches of the workspace (resume/attach)"),
        Binding("d", "dataset", "Dataset", id="dataset", show=False, tooltip="Build a dataset (dialog)"),
        Binding("t", "train", "Train", id="train", show=False, tooltip="Train models on a dataset (dialog)"),
        Binding("n", "next_chart", "Next", id="next_chart", tooltip="Training tab: the next targets' loss curves"),
        Binding("right_square_bracket", "page(1)", "Next page", id="page_next", key_display="]", tooltip="Next page of videos",
                show=False),
        Binding("left_square_bracket", "page(-1)", "Prev page", id="page_prev", key_display="[", tooltip="Previous page of videos",
                show=False),
        Binding("escape", "clear_search", "Clear search", id="clear_search", tooltip="Clear the search", show=False),
    ]

    def __init__(self, workspace: str, batch_id: str | None, config_path: str | None = None, *,
                 refresh_hz: float = 1.0, page_size: int = 500,
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.workspace, self.batch_id, self.config_path = workspace, batch_id, config_path
        self.poll_interval = 1.0 / max(0.1, min(refresh_hz, 2.0))
        self.page_size = page_size
        self.clock = clock
        self.summary: BatchSummary | None = None
        self.follower = BatchFollower(workspace, batch_id, clock=clock) if batch_id else None
        self.jobs = JobsFollower(workspace)
        self.polls = 0

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield BatchHeader(self.workspace, id="batch-header")
        with TabbedContent(id="tabs"):
            with TabPane("Videos", id="tab-videos"), Vertical():
                yield Static("", id="videos-status", markup=False)
                yield Input(placeholder="search video id or error class; enter to apply, esc to clear",
                            id="search-input")
                yield VideosTable(page_size=self.page_size, id="videos")
            with TabPane("Workers", id="tab-workers"):
                yield WorkersTable(id="workers")
            with TabPane("System", id="tab-system"), VerticalScroll(id="system-scroll"):
                yield SystemPanel(id="system")
            with TabPane("Alerts", id="tab-alerts"):
                yield AlertsTable(id="alerts")
            with TabPane("Pipeline", id="tab-pipeline"), VerticalScroll(id="pipeline-scroll"):
                yield PipelinePanel(self.workspace, id="pipeline")
            with TabPane("Dataset", id="tab-dataset"):
                yield DatasetPanel(id="dataset")
            with TabPane("Training", id="tab-training"):
                yield TrainingPanel(id="training")
        yield KeysFooter()

    @property
    def videos(self) -> VideosTable:
        return self.query_one("#videos", VideosTable)

    def on_mount(self) -> None:
        self.query_one("#search-input").display = False
        self.videos.focus()
        self.poll()

    # -- polling (Dolphie pattern) ----------------------------------------------------------
    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def poll(self) -> None:
        try:
            if self.follower is not None:
                self.post_message(BatchPolled(self.follower.poll()))
            ds, tr, changed = self.jobs.poll()
            if changed or self.polls == 0:
                self.post_message(JobsPolled(copy.deepcopy(ds), copy.deepcopy(tr), copy.deepcopy(self.jobs.pipeline)))
        except Exception as exc:  # noqa: BLE001 - reported; polling goes on
            self.post_message(PollFailed(f"{type(exc).__name__}: {exc}"))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "poll" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            # The messages posted by the poll are queued before this; schedule the next one.
            self.polls += 1
            self.query_one(PipelinePanel).tick(self.clock())
            self.set_timer(self.poll_interval, self.poll)
        elif event.state == WorkerState.ERROR and event.worker.error is not None:
            self.notify(f"{event.worker.name}: {event.worker.error}", severity="error", markup=False)

    def on_batch_polled(self, message: BatchPolled) -> None:
        d = message.delta
        changed = d.summary != self.summary or bool(d.rows) or bool(d.alerts)
        self.summary = d.summary
        table = self.videos
        if d.rows:
            table.apply_rows(d.rows, d.order)
            detail = self.app.screen
            if isinstance(detail, VideoDetailScreen) and detail.batch_id == self.batch_id:
                row = table.rows_by_key.get(detail.row.key)
                if row is not None and row != detail.row:
                    detail.follow(row)  # it showed the row as opened: '[failed] attempts 1' after a retry
        now = self.clock()
        table.refresh_rows(now)
        header = self.query_one(BatchHeader)
        header.summary = d.summary
        if d.summary.alive or d.first:
            header.now = now  # the elapsed clock ticks only while the batch runs
        system = self.query_one(SystemPanel)
        system.set_live(d.summary.alive)
        if d.metrics is not None:
            system.add_sample(d.metrics)
        if d.workers or d.first:
            self.query_one(WorkersTable).show(d.workers)
        if not changed and not d.first:
            return  # an idle tick: nothing else to redraw
        alerts = self.query_one("#alerts", AlertsTable)
        alerts.add_alerts(d.alerts)
        header.alert_count = n = alerts.unacknowledged
        self.query_one("#videos-status", Static).update(table.page_label())
        self.query_one(TabbedContent).get_tab("tab-alerts").label = f"Alerts ({n})" if n else "Alerts"
        self.refresh_bindings()

    def on_jobs_polled(self, message: JobsPolled) -> None:
        self.query_one(DatasetPanel).view = message.dataset
        self.query_one(TrainingPanel).show(message.train)
        panel = self.query_one(PipelinePanel)
        panel.view = message.pipeline
        panel.tick(self.clock())
        self.refresh_bindings()  # n (next chart) depends on the training run's targets

    def on_poll_failed(self, message: PollFailed) -> None:
        self.query_one("#videos-status", Static).update(f"poll failed (retrying): {message.error}")

    # -- which keys apply now -------------------------------------------------------------
    def _selected_failed(self) -> str | None:
        key = self.videos.selected_key
        row = self.videos.rows_by_key.get(key) if key else None
        return key if row is not None and row.status == "failed" else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("retry", "retry_all", "pause", "stop", "failed", "detail", "cycle_filter", "search") and \
                self.batch_id is None:
            return None
        if action == "retry":
            return True if self._selected_failed() else None
        if action in ("retry_all", "failed"):
            return True if self.videos.failed_keys else None
        if action == "next_chart":  # shown on the Training tab when the chart has more than one page
            return self.query_one(TabbedContent).active == "tab-training" and \
                self.query_one(TrainingPanel).chart_pages > 1
        live = self.summary is not None and self.summary.alive
        paused = live and self.summary is not None and self.summary.state == "paused"
        if action == "resume_scheduling":
            return paused  # False hides it: p reads "Pause" unless the live batch is paused
        if action == "pause" and paused:
            return False  # hidden: p reads "Resume"
        if action in LIVE_ONLY:
            return True if live else None
        return True

    @on(TabbedContent.TabActivated)
    def tab_activated(self) -> None:
        self.refresh_bindings()  # n (next chart) belongs to the Training tab

    def action_next_chart(self) -> None:
        self.query_one(TrainingPanel).next_chart()

    @on(DataTable.RowHighlighted, "#videos")
    def row_highlighted(self) -> None:
        self.refresh_bindings()  # r (retry) applies to the selected row: dim it or not in the footer

    # -- engine commands (thread workers that post CommandDone) -----------------------------
    @work(thread=True, exit_on_error=False, group="command")
    def engine_call(self, action: str, fn: Callable[[], Any], ok_text: str) -> None:
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - reported as a notification
            self.post_message(CommandDone(action, False, f"{action} failed: {exc}"))
            return
        if isinstance(result, dict) and result.get("ok") is False:
            self.post_message(CommandDone(action, False, f"{action} failed: {result.get('error')}", result))
            return
        self.post_message(CommandDone(action, True, _reply_text(action, result, ok_text), result))

    def on_command_done(self, message: CommandDone) -> None:
        self.notify(message.text, severity="information" if message.ok else "error",
                    title=message.action, markup=False)

    def retry_keys(self, keys: list[str]) -> None:
        from engine import api

        assert self.batch_id is not None
        batch = self.batch_id
        self.engine_call("retry", lambda: api.retry_videos(self.workspace, batch, keys),
                         f"re-queued {', '.join(keys)}")

    def action_retry(self) -> None:
        key = self._selected_failed()
        if key:
            self.retry_keys([key])

    def action_retry_all(self) -> None:
        from engine import api

        n = len(self.videos.failed_keys)
        batch = self.batch_id
        assert batch is not None

        def chosen(answer: str | None) -> None:
            if answer is None:
                return
            perm = answer == "all"
            self.engine_call("retry all", lambda: api.retry_videos(self.workspace, batch, [], all_failed=True,
                                                                   include_permanent=perm),
                             "re-queued the failed videos" + (" (permanent failures too)" if perm else ""))

        self.app.push_screen(ConfirmScreen(
            f"Retry the failed videos of batch {batch}? ({n} failed)",
            [("transient", "Retry transient"), ("all", "Retry all, permanent too")]), chosen)

    def action_pause(self) -> None:
        self._scheduling("pause")

    def action_resume_scheduling(self) -> None:
        self._scheduling("resume")

    def _scheduling(self, name: str) -> None:
        from engine import api

        batch = self.batch_id
        assert batch is not None
        self.engine_call(name, lambda: api.command(self.workspace, batch, name),
                         "scheduling resumed" if name == "resume" else "scheduling paused (running videos finish)")

    def action_stop(self) -> None:
        from engine import api

        batch = self.batch_id
        assert batch is not None

        def chosen(answer: str | None) -> None:
            if answer == "stop":
                self.engine_call("stop", lambda: api.command(self.workspace, batch, "stop"),
                                 f"stopping {batch}; resume it later from the batch list (b)")

        self.app.push_screen(ConfirmScreen(
            f"Stop batch {batch}? Running videos get a grace period; the rest stays queued for a resume.",
            [("stop", "Stop the batch")]), chosen)

    def action_cycle_filter(self) -> None:
        self.query_one(TabbedContent).active = "tab-videos"
        self.videos.cycle_filter()
        self.query_one("#videos-status", Static).update(self.videos.page_label())

    def action_page(self, step: int) -> None:
        table = self.videos
        table.page = max(0, min(table.pages - 1, table.page + step))
        self.query_one("#videos-status", Static).update(table.page_label())

    def action_search(self) -> None:
        self.query_one(TabbedContent).active = "tab-videos"
        box = self.query_one("#search-input", Input)
        box.display = True
        box.focus()

    @on(Input.Submitted, "#search-input")
    def search_submitted(self, event: Input.Submitted) -> None:
        self.videos.search = event.value.strip()
        self.query_one("#videos-status", Static).update(self.videos.page_label())
        self.videos.focus()

    def action_clear_search(self) -> None:
        box = self.query_one("#search-input", Input)
        box.value, box.display = "", False
        self.videos.search = ""
        self.query_one("#videos-status", Static).update(self.videos.page_label())
        self.videos.focus()

    def action_alerts(self) -> None:
        self.query_one(TabbedContent).active = "tab-alerts"
        self.query_one(AlertsTable).focus()

    def action_acknowledge(self) -> None:
        alerts = self.query_one(AlertsTable)
        alerts.acknowledge()
        self.query_one(BatchHeader).alert_count = 0
        self.query_one(TabbedContent).get_tab("tab-alerts").label = "Alerts"

    def action_failed(self) -> None:
        self.app.push_screen(FailedScreen(self))

    def open_detail(self, key: str) -> None:
        assert self.batch_id is not None
        row = self.videos.rows_by_key.get(key)
        if row is not None:
            self.app.push_screen(VideoDetailScreen(self.workspace, self.batch_id, row, self.retry_keys))

    def action_detail(self) -> None:
        key = self.videos.selected_key
        if key:
            self.open_detail(key)

    def action_batches(self) -> None:
        self.app.action_batches()  # type: ignore[attr-defined]

    def _start_job(self, kind: str, params: dict[str, Any] | None) -> None:
        from engine import jobs

        if params is None:
            return
        self.jobs.rescan_soon()
        self.engine_call(kind, lambda: jobs.start_job(self.workspace, kind, params, self.config_path),
                         f"{kind} job started; follow it in the {'Dataset' if kind == 'dataset' else 'Training'} tab")
        self.query_one(TabbedContent).active = "tab-dataset" if kind == "dataset" else "tab-training"

    def action_dataset(self) -> None:
        self.app.push_screen(DatasetDialog(), lambda p: self._start_job("dataset", p))

    def action_train(self) -> None:
        self.app.push_screen(TrainDialog(), lambda p: self._start_job("train", p))
