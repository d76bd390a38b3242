"""Run the enabled feature modules on one video: decode once, stream, finish, validate, write.

1. instantiate the enabled modules (registry order), skip those already done (resume) and
   those whose ``applicable`` gives a reason (written as ``skipped``);
2. one decoding pass (:class:`~engine.extractors.decode.FrameSource`): each frame becomes the
   views the modules sampling it need, buffered per module in batches of
   ``extract.batch_frames`` and handed to ``update`` -- memory is bounded by the batch size at
   analysis resolution, whatever the video length;
3. ``finish`` in registry order (``upstream`` then holds earlier results), check each result
   against its declared outputs, write it through the sink;
4. record the decode facts in the manifest (``video``, ``extract``) and validate the run.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from engine.atomic import atomic_write_bytes, atomic_write_json
from engine.errors import ArtifactInvalid
from engine.extractors import registry
from engine.extractors.base import (
    FrameBatch,
    Module,
    ModuleInputs,
    ModuleResult,
    SkipModule,
    VideoInfo,
)
from engine.extractors.decode import FrameSource, Sampler, ViewKey, luma_crop, make_view, threaded
from engine.extractors.integrity import check_complete
from engine.extractors.validate import check_result, validate_run
from engine.resources import decoder_threads, one_blas_thread

log = logging.getLogger(__name__)
_SWITCH_S = 0.001  # GIL switch interval while decoding (see _decode)


def _cuda_possible() -> bool:
    """False when this machine cannot have a CUDA device (no NVIDIA device node): then the
    check needs no torch import (~1 s and ~150 MiB per worker on a CPU-only machine)."""
    if "torch" in sys.modules:
        return True
    return any(os.path.exists(p) for p in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg")) or sys.platform == "win32"


def resolve_device(setting: str, needed: bool) -> str:
    """'cpu' or 'cuda'; torch is only imported when a module uses the device and the machine
    may have a GPU."""
    if setting == "cpu" or not needed:
        return "cpu"
    if not _cuda_possible():
        if setting == "cuda":
            log.warning("extract.device = 'cuda' but CUDA is not available; using the CPU")
        return "cpu"
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return "cpu"
    if torch.cuda.is_available():
        return "cuda"
    if setting == "cuda":
        log.warning("extract.device = 'cuda' but CUDA is not available; using the CPU")
    return "cpu"


def warm_up(settings: Any) -> None:
    """Let every enabled module load its heavy resources (see ``Module.warm_up``) on the device
    a video would use; a failure is logged, not raised (the video then reports it)."""
    es = settings
    modules = registry.instantiate(es.modules, es.params)
    device = resolve_device(es.device, any(getattr(m, "uses_device", False) for m in modules))
    for m in modules:
        try:
            m.warm_up(device)
        except Exception as exc:  # noqa: BLE001 - reported again by each video that runs m
            log.warning("warm-up of %s failed: %s", m.name, exc)


def video_info(ctx: Any) -> VideoInfo:
    probe = ctx.sink.manifest().get("components", {}).get("probe", {}).get("summary", {})
    return VideoInfo(
        path=ctx.task["video_path"], fps=float(probe.get("fps") or 0.0),
        frame_count=int(probe.get("frame_count") or 0), duration_s=float(probe.get("duration_s") or 0.0),
        width=int(probe.get("width") or 0), height=int(probe.get("height") or 0),
        rotation=int(probe.get("rotation") or 0), has_audio=probe.get("audio") is not None,
        platform_id=str(ctx.task.get("platform_id", "")), video_id=str(ctx.task.get("video_id", "")),
        result_store_root=ctx.result_store_root,
    )


def _load_done(sink: Any, name: str) -> ModuleResult | None:
    """An earlier attempt's result (for modules that read it), when the sink can read NPZs."""
    entry = sink.manifest().get("components", {}).get(name, {})
    if entry.get("status") != "done":
        return None
    reader = getattr(sink, "arrays", None)
    if reader is None:
        return None
    try:
        return ModuleResult(reader(name), dict(entry.get("summary", {})))
    except (OSError, ValueError):
        return None


class _Feed:
    """Sampling state and frame buffer of one frame-consuming module."""

    def __init__(self, module: Module, source_fps: float, batch: int) -> None:
        spec = module.requirements().frames
        assert spec is not None
        self.module = module
        self.key = ViewKey(spec.width, spec.color)
        self.sampler = Sampler(spec.fps, source_fps)
        self.batch = batch
        self.idx: list[int] = []
        self.times: list[float] = []
        self.frames: list[np.ndarray] = []
        self.crop = int(spec.luma_crop)
        self.crops: list[np.ndarray] = []
        self.all_idx: list[int] = []
        self.all_times: list[float] = []
        self.busy_s = 0.0

    def flush(self) -> None:
        if not self.frames:
            return
        t0 = time.perf_counter()
        self.module.update(FrameBatch(np.asarray(self.idx, np.int64), np.asarray(self.times, np.float64),
                                      np.stack(self.frames), np.stack(self.crops) if self.crops else None))
        self.busy_s += time.perf_counter() - t0
        self.idx, self.times, self.frames, self.crops = [], [], [], []


def _decode_loop(ctx: Any, info: VideoInfo, feeds: list[_Feed], keep: _Feed | None, frames_dir: Any,
                 poll: Callable[[], None] | None, source: FrameSource,
                 expected: int) -> tuple[list[tuple[int, float]], tuple[int, ...], float, float]:
    kept: list[tuple[int, float]] = []
    shape: tuple[int, ...] = ()
    first_t: float | None = None
    last_t = 0.0
    for sf in (source if single_core() else threaded(source)):
        if first_t is None:
            first_t = sf.time
        views: dict[ViewKey, np.ndarray] = {}
        memo: dict[tuple[int, int, int], np.ndarray] = {}  # shrunk planes shared by the views
        for feed in feeds:
            if not feed.sampler.wants(sf.index, sf.time):
                continue
            view = views.get(feed.key)
            if view is None:
                view = views[feed.key] = make_view(sf.frame, feed.key, info.rotation, memo)
            feed.idx.append(sf.index)
            feed.times.append(sf.time)
            feed.frames.append(view)
            if feed.crop:
                feed.crops.append(luma_crop(sf.frame, feed.crop))
            feed.all_idx.append(sf.index)
            feed.all_times.append(sf.time)
            if feed is keep and frames_dir is not None:
                _keep_frame(frames_dir, sf.index, view)
                kept.append((sf.index, sf.time))
            shape = view.shape
            if len(feed.frames) >= feed.batch:
                feed.flush()
        last_t = sf.time
        if poll is not None and sf.index % 8 == 0:
            poll()
        if sf.index % 100 == 0:
            ctx.progress("extract", min(0.95, sf.index / expected))
    for feed in feeds:
        feed.flush()
    return kept, shape, first_t or 0.0, last_t


def _decode(ctx: Any, info: VideoInfo, feeds: list[_Feed], keep: _Feed | None, frames_dir: Any,
            poll: Callable[[], None] | None = None) -> dict[str, Any]:
    es = ctx.settings.extract
    # In a pool each worker gets cores // workers decoder threads (engine.resources); alone, all cores.
    source = FrameSource(info.path, fast=es.fast_decode, threads=decoder_threads())
    t0 = time.perf_counter()
    expected = max(info.frame_count, 1)
    switch = sys.getswitchinterval()
    # the decode thread needs the GIL briefly per frame; with the default 5 ms switch interval
    # it can wait that long behind the main thread's Python work while FFmpeg's frame threads
    # idle (docs/extractors.md, "Threads"): 1 ms during the decode pass
    if not single_core():
        sys.setswitchinterval(min(switch, _SWITCH_S))
    try:
        kept, shape, first_t, last_t = _decode_loop(ctx, info, feeds, keep, frames_dir, poll, source, expected)
    finally:
        sys.setswitchinterval(switch)
    if keep is not None and frames_dir is not None:
        atomic_write_json(frames_dir / "metadata.json", {
            "module": keep.module.name, "analysis_fps": keep.sampler.fps, "width": int(shape[1]) if shape else 0,
            "indices": [i for i, _ in kept], "times": [round(t, 6) for _, t in kept],
        })
    n = source.frames_decoded
    # frames ending well before the declared duration: a truncated file (permanent error) or a
    # video stream shorter than another one (facts for the frame-count check of validate_run)
    whole = check_complete(info.path, info.duration_s, info.fps, first_t, last_t, n)
    return {"frames_decoded": n, "last_frame_time_s": round(last_t, 6), "decode_wall_s": round(time.perf_counter() - t0, 4),
            **whole}


def _keep_frame(frames_dir: Any, index: int, view: np.ndarray) -> None:
    import cv2

    ok, buf = cv2.imencode(".jpg", view, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if ok:
        atomic_write_bytes(frames_dir / f"{index:07d}.jpg", buf.tobytes(), durable=False)


def run_modules(ctx: Any) -> None:
    es = ctx.settings.extract
    info = video_info(ctx)
    modules = registry.instantiate(es.modules, es.params)
    upstream: dict[str, ModuleResult] = {}
    needed = {d for m in modules for d in (*m.requirements().needs, *m.requirements().optional)}
    active: list[Module] = []
    silent: set[str] = set()  # done earlier but must rerun (unwritten) because others read it
    for m in modules:
        if m.name in ctx.done:
            if m.name in needed:
                prior = _load_done(ctx.sink, m.name)
                if prior is not None:
                    upstream[m.name] = prior
                elif ctx.sink.manifest().get("components", {}).get(m.name, {}).get("status") == "done":
                    silent.add(m.name)
                    active.append(m)
            continue
        reason = m.applicable(info)
        if reason:
            ctx.sink.write_component(m.name, version=m.version, arrays=None, summary={}, status="skipped", reason=reason)
            continue
        active.append(m)
    if not active:
        return
    device = resolve_device(es.device, any(getattr(m, "uses_device", False) for m in active))
    cache: dict[str, Any] = {}
    wall: dict[str, float] = {}
    skipped: dict[str, str] = {}
    # audio-only modules run start to finish in one background thread while the video decodes
    # (with a one-core share in a pool everything runs in one thread: other workers use the other cores)
    bg_mods = [m for m in active if _background(m)] if not single_core() else []
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vidops-audio") if bg_mods else None
    with one_blas_thread():  # our own threads are the parallelism (engine/resources.py)
        try:
            bg = {m.name: pool.submit(_run_whole, m, ModuleInputs(info, upstream, cache, device, ctx.batch_size_scale))
                  for m in bg_mods} if pool else {}
            _run_rest(ctx, info, active, upstream, silent, device, cache, wall, skipped, bg)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)


def single_core() -> bool:
    """A pool gave this worker one core: extra threads would only contend with other workers."""
    return decoder_threads() == 1


def _background(m: Module) -> bool:
    """Whether ``m`` can run in the background thread: no frames and no upstream inputs."""
    r = m.requirements()
    return r.frames is None and not r.needs and not r.optional


def _run_whole(m: Module, inputs: ModuleInputs) -> tuple[ModuleResult | None, str | None, float]:
    """begin + finish of a background module: (result, skip reason, wall seconds)."""
    t0 = time.perf_counter()
    try:
        m.begin(inputs)
        return m.finish(), None, time.perf_counter() - t0
    except SkipModule as exc:
        return None, str(exc) or "not applicable", time.perf_counter() - t0


def _run_rest(ctx: Any, info: VideoInfo, active: list[Module], upstream: dict[str, ModuleResult], silent: set[str],
              device: str, cache: dict[str, Any], wall: dict[str, float], skipped: dict[str, str],
              bg: dict[str, Future[tuple[ModuleResult | None, str | None, float]]]) -> None:
    es = ctx.settings.extract
    for m in active:
        if m.name in bg:
            continue
        t0 = time.perf_counter()
        try:
            m.begin(ModuleInputs(info, upstream, cache, device, ctx.batch_size_scale))
        except SkipModule as exc:
            skipped[m.name] = str(exc) or "not applicable"
        wall[m.name] = time.perf_counter() - t0
    feeds = [_Feed(m, info.fps, es.batch_frames) for m in active
             if m.name not in skipped and m.name not in bg and m.requirements().frames is not None]
    decode_facts: dict[str, Any] = {}
    sampling: dict[str, dict[str, Any]] = {}
    by_feed = {f.module.name: f for f in feeds}
    pending = list(active)  # registry order; finished (and written) strictly in this order

    def complete(m: Module, n_frames: int | None) -> None:
        """Finish ``m`` (or collect its background result), check it and write it."""
        pending.remove(m)
        ctx.progress(m.name, 0.0)
        t0 = time.perf_counter()
        status, reason = "done", None
        result: ModuleResult | None = None
        if m.name in bg:
            result, reason, wall[m.name] = bg[m.name].result()  # re-raises the module's error
            if result is None:
                status = "skipped"
        elif m.name in skipped:
            status, reason = "skipped", skipped[m.name]
        else:
            try:
                result = m.finish()
            except SkipModule as exc:
                status, reason = "skipped", str(exc) or "not applicable"
        elapsed = wall.get(m.name, 0.0) + (0.0 if m.name in bg else time.perf_counter() - t0)
        if result is None:
            if m.name not in silent:
                ctx.sink.write_component(m.name, version=m.version, arrays=None, summary={}, status=status,
                                         reason=reason, wall_s=elapsed)
            return
        feed = by_feed.get(m.name)
        if feed is not None:
            result.arrays.setdefault("sample_index", np.asarray(feed.all_idx, np.int64))
            result.arrays.setdefault("sample_time", np.asarray(feed.all_times, np.float64))
            result.summary.update({k: v for k, v in sampling[m.name].items() if k in ("analysis_fps", "n_sampled")})
        upstream[m.name] = result
        if m.name in silent:
            return
        problems = check_result(type(m), result, n_frames=n_frames) if es.validate else []
        if problems:
            raise ArtifactInvalid(f"{m.name}: " + "; ".join(problems[:5]))
        ctx.sink.write_component(m.name, version=m.version, arrays=result.arrays, summary=result.summary,
                                 wall_s=elapsed)
        ctx.progress(m.name, 1.0)
        ctx.progress("extract", 0.95 + 0.05 * (len(active) - len(pending)) / len(active))

    def drain() -> None:
        """While frames decode: write the leading background (audio) modules that are done, so
        their writes leave the sequential tail (they take no frames: n_frames is not needed)."""
        while pending and pending[0].name in bg and bg[pending[0].name].done():
            complete(pending[0], None)

    if feeds:
        keep, frames_dir = None, None
        run_path = getattr(ctx.sink, "path", None)
        if es.keep_frames and run_path is not None:
            colour = [f for f in feeds if f.key.color == "bgr" and not f.sampler.every]
            keep = max(colour or feeds, key=lambda f: (not f.sampler.every, f.key.width))
            frames_dir = run_path / "frames"
            frames_dir.mkdir(parents=True, exist_ok=True)
        decode_facts = _decode(ctx, info, feeds, keep, frames_dir, drain if bg else None)
        for f in feeds:
            wall[f.module.name] += f.busy_s
            sampling[f.module.name] = {"analysis_fps": round(f.sampler.fps, 6), "every_frame": f.sampler.every,
                                       "width": f.key.width, "color": f.key.color, "n_sampled": len(f.all_idx)}
    # A resumed run (an earlier attempt was killed) re-samples only the modules it still needs,
    # or decodes nothing when none takes frames: its facts must not replace those of the decode
    # the done components came from (frames_decoded, video_duration_s; video.frame_count fell
    # back to the container's estimate). That earlier decode wrote them before any component
    # that takes frames; the decode facts of a full pass are the same.
    prior = ctx.sink.manifest().get("extract")
    prior = prior if isinstance(prior, dict) else None
    if feeds or prior is None:
        prior_sampling = (prior or {}).get("sampling") or {}
        ctx.sink.update(video=_video_block(info, decode_facts),
                        extract={"sampling": {**prior_sampling, **sampling}, **decode_facts})
    else:
        decode_facts = {k: v for k, v in prior.items() if k != "sampling"}
    n_frames = int(decode_facts.get("frames_decoded", info.frame_count))
    while pending:
        complete(pending[0], n_frames)
    run_path = getattr(ctx.sink, "path", None)
    if es.validate and run_path is not None:
        problems = validate_run(run_path)
        if problems:
            raise ArtifactInvalid("; ".join(problems[:5]))


def _video_block(info: VideoInfo, facts: dict[str, Any]) -> dict[str, Any]:
    n = facts.get("frames_decoded")
    return {
        "source_fps": info.fps, "frame_count": int(n) if n is not None else info.frame_count,
        "frame_count_container": info.frame_count, "duration_s": info.duration_s,
        "width": info.width, "height": info.height, "rotation": info.rotation, "has_audio": info.has_audio,
    }


__all__ = ["resolve_device", "run_modules", "video_info"]
