"""Global tempo (BPM), its candidates, a confidence and beat times from a mono signal.

Algorithm (all numpy; see docs/extractors_audio.md):

1. Onset strength: half-wave rectified log-mel spectral flux (64 bands, 11.6 ms hop), minus
   its 1 s moving average.
2. Periodicity: autocorrelation of the onset envelope; its strongest peaks in 30-300 BPM
   propose the *periodicities* present.
3. Metrical levels: each periodicity T proposes the octave family {T/2, T, 2T} within
   40-240 BPM. Each member is refined to 0.05 BPM by a phase-aligned pulse-train fit
   (comb): the mean onset strength under the best-aligned regular grid at that tempo, over
   the whole signal. The comb of a level whose pulses all fall on accented onsets scores high;
   a subdivision level also samples weak off-beats and scores lower - that is the
   metrical-level check that separates 90 from 180 in a solo line whose eighth notes dominate
   the autocorrelation.
4. Decision: the family with the best autocorrelation x prior, then its level with the best
   comb x prior; the prior a log-normal on tempo centred on 110 BPM with a
   one-octave deviation (preferred tapping tempo, Moelants 2002; the same shape as librosa's
   120/1-octave prior). With equal evidence (a plain click track) the prior picks the level
   nearer 110, so an unaccented 180 BPM click reads 90: a documented ambiguity.
5. Beat times: dynamic-programming beat tracker (Ellis 2007) at the chosen tempo.

``confidence`` (0-1) = autocorrelation peak height x the chosen level's share of its family's scores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy.ndimage import maximum_filter1d
from scipy.signal import find_peaks

from engine.extractors.audio.decode import cached_mono
from engine.extractors.audio.spectral import ANALYSIS_SR, Spectrogram, cached_spectrogram
from engine.extractors.base import (
    ArraySpec,
    Module,
    ModuleInputs,
    ModuleResult,
    Requirements,
    SkipModule,
)

MIN_DURATION_S = 3.0
BPM_RANGE = (40.0, 240.0)
ACF_RANGE = (30.0, 300.0)
PRIOR_CENTRE_BPM = 110.0
PRIOR_OCTAVES = 1.0
N_PERIODICITIES = 3
REFINE_SPAN = 0.03  # +-3 % search around a proposed tempo
REFINE_STEP_BPM = 0.05


@dataclass
class Tempo:
    bpm: float | None  # None: too short, silent or no periodicity
    confidence: float  # 0..1
    candidates_bpm: np.ndarray = field(repr=False)  # float32 (k,) sorted by score, best first
    candidates_score: np.ndarray = field(repr=False)  # float32 (k,) comb x prior
    candidates_comb: np.ndarray = field(repr=False)  # float32 (k,) evidence without prior
    beat_times_s: np.ndarray = field(repr=False)  # float64 (b,)
    onset_strength: np.ndarray = field(repr=False)  # float32 (frames,)
    fps: float = 0.0
    reason: str | None = None


def onset_strength(spec: Spectrogram) -> np.ndarray:
    """Log-mel spectral flux, detrended by its 1 s moving average, clipped at 0."""
    lm = spec.log_mel
    if lm.shape[0] < 2:
        return np.zeros(lm.shape[0], dtype=np.float32)
    flux = np.r_[0.0, np.maximum(np.diff(lm, axis=0), 0.0).mean(axis=1)]
    # a window longer than the envelope (audio under ~1 s) would make mode="same" return
    # the window's length instead of the envelope's
    k = max(1, min(int(round(spec.fps)), flux.size))
    trend = np.convolve(flux, np.ones(k) / k, mode="same")
    return np.maximum(flux - trend, 0.0).astype(np.float32)


def _autocorrelation(o: np.ndarray) -> np.ndarray:
    x = o - o.mean()
    spec = np.fft.rfft(x, 2 * x.size)
    ac = np.fft.irfft(np.abs(spec) ** 2)[: x.size]
    return ac / ac[0] if ac[0] > 0 else ac


def _acf_periodicities(ac: np.ndarray, fps: float) -> list[tuple[float, float]]:
    """(bpm, acf value) of the strongest autocorrelation peaks, lag refined parabolically."""
    peaks, _ = find_peaks(ac)
    out = []
    for p in peaks:
        if not 0 < p < ac.size - 1:
            continue
        a, b, c = ac[p - 1], ac[p], ac[p + 1]
        denom = a - 2 * b + c
        lag = p + (0.5 * (a - c) / denom if denom != 0 else 0.0)
        bpm = 60.0 * fps / lag
        if ACF_RANGE[0] <= bpm <= ACF_RANGE[1] and b > 0:
            out.append((bpm, float(b)))
    out.sort(key=lambda t: -t[1])
    return out[:N_PERIODICITIES]


def _comb(o_wide: np.ndarray, fps: float, bpm: float) -> float:
    """Mean onset strength under the best-phased regular pulse grid at ``bpm``."""
    period = 60.0 * fps / bpm
    n_pulses = int((o_wide.size - 1) // period)
    if n_pulses < 2:
        return 0.0
    phases = np.arange(int(math.ceil(period)))
    idx = np.round(phases[:, None] + np.arange(n_pulses)[None, :] * period).astype(np.int64)
    idx = np.minimum(idx, o_wide.size - 1)
    return float(o_wide[idx].mean(axis=1).max())


def _refine(o_wide: np.ndarray, fps: float, bpm: float) -> tuple[float, float]:
    """Best :func:`_comb` over a 0.05 BPM grid within +-3 % of ``bpm``, all grid tempi at once.

    Pulse k of phase p sits at frame p + round(k * period) (``_comb`` rounds p + k * period:
    the same frame except at exact .5 ties), so each pulse is one contiguous run of phases -
    a row of a sliding window over the envelope - instead of an element-wise gather. Indices
    past the end read the last frame, as in ``_comb``; means accumulate in float64."""
    grid = np.arange(bpm * (1 - REFINE_SPAN), bpm * (1 + REFINE_SPAN), REFINE_STEP_BPM)
    period = 60.0 * fps / grid  # (G,)
    n_pulses = ((o_wide.size - 1) // period).astype(np.int64)
    n_phases = np.ceil(period).astype(np.int64)
    n_max = int(n_pulses.max())
    if n_max < 2:
        return float(grid[0]), 0.0
    width = int(n_phases.max())
    padded = np.concatenate([o_wide, np.full(width, o_wide[-1], o_wide.dtype)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, width)  # (size, width)
    pulses = np.arange(n_max)
    starts = np.round(pulses[None, :] * period[:, None]).astype(np.int64)  # (G, N)
    valid = pulses[None, :] < n_pulses[:, None]
    starts = np.where(valid, np.minimum(starts, o_wide.size - 1), 0)
    rows = windows[starts]  # (G, N, width) float32
    rows[~valid] = 0.0
    means = rows.sum(axis=1, dtype=np.float64) / np.maximum(n_pulses, 1)[:, None]
    means[np.arange(width)[None, :] >= n_phases[:, None]] = -np.inf
    scores = means.max(axis=1)
    scores[n_pulses < 2] = 0.0
    i = int(np.argmax(scores))
    return float(grid[i]), float(scores[i])


def _prior(bpm: float) -> float:
    return math.exp(-0.5 * (math.log2(bpm / PRIOR_CENTRE_BPM) / PRIOR_OCTAVES) ** 2)


def track_beats(o: np.ndarray, fps: float, bpm: float, tightness: float = 100.0) -> np.ndarray:
    """Ellis (2007) dynamic-programming beat tracker; beat times in seconds."""
    if o.size == 0 or o.max() <= 0:
        return np.zeros(0)
    period = 60.0 * fps / bpm
    norm = o / (o.std() + 1e-9)
    lo, hi = int(round(period / 2)), int(round(2 * period))
    offsets = np.arange(lo, hi + 1)
    penalty = -tightness * np.log(offsets / period) ** 2
    score = norm.astype(np.float64).copy()
    back = np.full(o.size, -1, dtype=np.int64)
    # predecessors of t: t - offsets (t-lo, t-lo-1, ..., down to 0 or t-hi); they all lie before
    # t - lo + 1, so a block of lo consecutive frames depends only on finished frames and is
    # computed at once (the same sums and first-maximum choice as a frame-by-frame loop)
    j_all = np.arange(offsets.size)
    block = max(1, lo)
    for t0 in range(lo, o.size, block):
        ts = np.arange(t0, min(t0 + block, o.size))
        pred = ts[:, None] - lo - j_all[None, :]
        cand = score[np.maximum(pred, 0)] + penalty[None, :]
        cand[pred < 0] = -np.inf
        j = cand.argmax(axis=1)
        c = cand[np.arange(ts.size), j]
        up = c > 0
        score[ts[up]] = norm[ts[up]] + c[up]
        back[ts[up]] = ts[up] - lo - j[up]
    # end at the best-scoring frame within the last period, follow the back-pointers
    tail = max(0, o.size - int(round(period)))
    t = tail + int(np.argmax(score[tail:]))
    beats = []
    while t >= 0:
        beats.append(t)
        t = int(back[t])
    frames = np.asarray(beats[::-1], dtype=np.float64)
    # drop leading/trailing beats on near-silent frames (the DP can extrapolate into silence)
    strong = o[frames.astype(np.int64)] > 0.1 * np.median(o[o > 0]) if np.any(o > 0) else frames > 0
    if strong.any():
        first, last = int(np.argmax(strong)), len(strong) - int(np.argmax(strong[::-1]))
        frames = frames[first:last]
    return frames / fps


def estimate(spec: Spectrogram, duration_s: float) -> Tempo:
    """Tempo of the signal whose spectrogram is ``spec`` (see module docstring)."""
    fps = spec.fps
    o = onset_strength(spec)

    def undefined(reason: str) -> Tempo:
        empty = np.zeros(0, dtype=np.float32)
        return Tempo(None, 0.0, empty, empty, empty, np.zeros(0), o, fps, reason)

    if duration_s < MIN_DURATION_S:
        return undefined(f"shorter than {MIN_DURATION_S:g} s")
    if not np.any(o > 0):
        return undefined("no onsets (silent or stationary audio)")
    periodicities = _acf_periodicities(_autocorrelation(o), fps)
    if not periodicities:
        return undefined("no periodicity in 30-300 BPM")
    # choose the periodicity family by autocorrelation x prior ...
    family_scores = [acf * _prior(bpm) for bpm, acf in periodicities]
    best = int(np.argmax(family_scores))
    base_bpm, base_acf = periodicities[best]
    # ... then its metrical level by the pulse-train fit x prior (+-2 frames tolerance)
    o_wide = maximum_filter1d(o, size=5)
    levels = (0.5, 1.0, 2.0)
    rows: list[tuple[float, float, float, bool]] = []  # bpm, comb, score, in chosen family
    proposed: list[float] = []
    for bpm, _ in [periodicities[best], *periodicities]:
        for level in (bpm * m for m in levels):
            if not BPM_RANGE[0] <= level <= BPM_RANGE[1]:
                continue
            if any(abs(level / p - 1) <= REFINE_SPAN for p in proposed):
                continue
            proposed.append(level)
            fine, comb = _refine(o_wide, fps, level)
            in_family = any(abs(level / (base_bpm * m) - 1) < 1e-9 for m in levels)
            rows.append((fine, comb, comb * _prior(fine), in_family))
    family = [r for r in rows if r[3]]
    if not family:
        return undefined("periodicities outside 40-240 BPM")
    chosen = max(family, key=lambda r: r[2])
    family_total = sum(r[2] for r in family)
    confidence = float(np.clip(base_acf, 0.0, 1.0) * chosen[2] / family_total) if family_total > 0 else 0.0
    rows.sort(key=lambda r: (r is not chosen, -r[2]))
    bpms = np.array([r[0] for r in rows])
    comb_arr = np.array([r[1] for r in rows])
    scores = np.array([r[2] for r in rows])
    beats = track_beats(o, fps, float(bpms[0]))
    return Tempo(
        bpm=float(bpms[0]), confidence=confidence,
        candidates_bpm=bpms.astype(np.float32), candidates_score=scores.astype(np.float32),
        candidates_comb=comb_arr.astype(np.float32), beat_times_s=beats, onset_strength=o, fps=fps,
    )


# --- pipeline module --------------------------------------------------------------------


class TempoModule(Module):
    """Global tempo, candidates and beats of the first audio stream (see module docstring)."""

    name = "tempo"
    version = "2"
    defaults: ClassVar[dict[str, Any]] = {}
    outputs: ClassVar[dict[str, ArraySpec]] = {
        "beat_times_s": ArraySpec("float64", ("b",), doc="beat times, s"),
        "candidates_bpm": ArraySpec("float32", ("k",), doc="tempo candidates, chosen first, BPM"),
        "candidates_score": ArraySpec("float32", ("k",), doc="pulse-train fit x tempo prior"),
        "candidates_comb": ArraySpec("float32", ("k",), doc="pulse-train fit alone (evidence)"),
        "onset_strength": ArraySpec("float32", ("f",), doc="log-mel flux at onset_fps"),
    }
    summary_keys = ("bpm", "confidence", "n_beats", "reason")

    def requirements(self) -> Requirements:
        return Requirements(frames=None, audio=True)

    def finish(self) -> ModuleResult:
        inputs: ModuleInputs = self.inputs
        mono = cached_mono(inputs.info.path, inputs.cache, ANALYSIS_SR)
        if mono is None:
            raise SkipModule("video has no audio stream")
        y, sr = mono
        spec = cached_spectrogram(inputs.info.path, y, inputs.cache)
        t = estimate(spec, y.size / sr)
        summary: dict[str, Any] = {
            "bpm": None if t.bpm is None else round(t.bpm, 2),
            "confidence": round(t.confidence, 3),
            "n_beats": int(t.beat_times_s.size),
            "reason": t.reason,
            "candidates": [[round(float(b), 2), round(float(s), 4)]
                           for b, s in zip(t.candidates_bpm[:6], t.candidates_score[:6], strict=True)],
            "onset_fps": round(t.fps, 4),
            "analysis_sample_rate": sr,
        }
        arrays = {
            "beat_times_s": t.beat_times_s.astype(np.float64),
            "candidates_bpm": t.candidates_bpm, "candidates_score": t.candidates_score,
            "candidates_comb": t.candidates_comb, "onset_strength": t.onset_strength.astype(np.float32),
        }
        return ModuleResult(arrays=arrays, summary=summary)
