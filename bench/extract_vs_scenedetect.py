"""Benchmark: whole vidops extraction vs PySceneDetect ContentDetector vs bare cv2 decoding.

    .venv/bin/python bench/extract_vs_scenedetect.py [--repeat 5] [--rss] [--kernels]

Per file, in one process, interleaved and repeated (best of N): (a) vidops probe + all
default modules (one worker, a RunDir in a temp dir; imports done beforehand), (b)
scenedetect 0.7.2 ``detect(path, ContentDetector())`` (OpenCV backend, default settings),
(c) ``cv2.VideoCapture.grab()`` over all frames. Prints times, ratios and hard-cut F1 (+-2
frames) of both tools, and the best process CPU time of each. ``--rss`` measures peak RSS of a
fresh worker process extracting a generated 30 s 720p video (moving gradients/shapes, captions,
a click-and-chord sound track); ``--kernels`` times the batched per-frame kernels with numpy
vs torch on the CPU.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
MEDIA = REPO.parent / "shared" / "media"


def grab_all(path: Path) -> float:
    import cv2

    t0 = time.perf_counter()
    cap = cv2.VideoCapture(str(path))
    while cap.grab():
        pass
    cap.release()
    return time.perf_counter() - t0


def scenedetect_cuts(path: Path) -> tuple[float, list[int]]:
    from scenedetect import ContentDetector, detect

    t0 = time.perf_counter()
    scenes = detect(str(path), ContentDetector())
    dt = time.perf_counter() - t0
    return dt, [s[0].frame_num for s in scenes[1:]]


def vidops_extract(path: Path) -> tuple[float, list[int], dict[str, float]]:
    from tests.extractors_support.run import extract

    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        manifest, _ = extract(path, Path(d))
        dt = time.perf_counter() - t0
    comps = manifest["components"]
    return dt, comps["cut_detection"]["summary"]["hard_cuts"], {k: c["wall_s"] for k, c in comps.items()}


def f1(found: list[int], truth: list[int], tol: int = 2) -> float:
    from tests.functional.extractors.test_shared_accuracy import f1 as _f1

    return _f1(found, truth, tol)


def make_720p(path: Path, seconds: int = 30, fps: int = 30) -> None:
    """A 1280x720 H.264 + stereo AAC clip with real structure, not noise: moving gradients and
    shapes, a new scene (palette, layout) every 5 s, a caption band in odd scenes, and a
    120 BPM click-and-chord sound track."""
    import av
    import cv2
    import numpy as np

    w, h = 1280, 720
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "veryfast", "crf": "23"}
        aus = out.add_stream("aac", rate=48000)
        aus.layout = "stereo"
        for i in range(seconds * fps):
            scene, t = i // (5 * fps), i / fps
            rng = np.random.default_rng(scene)
            c0, c1 = rng.integers(30, 225, 3), rng.integers(30, 225, 3)
            a = (xx * np.cos(scene + 0.2 * t) + yy * np.sin(scene + 0.2 * t)) / (w + h) + 0.5
            img = (c0[None, None, :] * (1 - a[..., None]) + c1[None, None, :] * a[..., None]).astype(np.uint8)
            for k in range(6):
                cx = int((rng.uniform(0, w) + 90 * t * (k + 1)) % w)
                cy = int(h / 2 + h / 3 * np.sin(t * (k + 1) / 3 + k))
                cv2.circle(img, (cx, cy), 40 + 10 * k, tuple(int(v) for v in rng.integers(0, 255, 3)), -1)
            cv2.rectangle(img, (int(200 + 150 * np.sin(t)), 150), (int(500 + 150 * np.sin(t)), 400), (240, 240, 240), 6)
            if scene % 2:
                cv2.putText(img, f"Scene {scene} caption text", (80, h - 60), cv2.FONT_HERSHEY_SIMPLEX, 1.6,
                            (255, 255, 255), 3)
            for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(pkt)
        sr = 48000
        tt = np.arange(seconds * sr) / sr
        chord = 0.05 * sum(np.sin(2 * np.pi * f * tt) for f in (220.0, 277.2, 329.6))
        click = np.zeros_like(tt)
        for b in np.arange(0, seconds, 0.5):
            n0 = int(b * sr)
            click[n0:n0 + 2400] += 0.4 * np.exp(-np.arange(min(2400, len(tt) - n0)) / 300.0) * np.sin(
                2 * np.pi * 1000 * tt[:min(2400, len(tt) - n0)])
        stereo = np.stack([chord + click, chord + 0.8 * click]).astype(np.float32)
        for k in range(0, stereo.shape[1], 1024):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(stereo[:, k:k + 1024]), format="fltp", layout="stereo")
            frame.sample_rate = sr
            for pkt in aus.encode(frame):
                out.mux(pkt)
        for st in (vs, aus):
            for pkt in st.encode():
                out.mux(pkt)


def peak_rss() -> None:
    # VmHWM of the child's own address space: ru_maxrss would carry over the high-water mark of
    # this (bigger: scenedetect, torch) process across fork+exec
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "720p.mp4"
        make_720p(path)
        code = (f"import sys,tempfile,time; sys.path.insert(0, {str(REPO)!r}); from pathlib import Path; "
                "from tests.extractors_support.run import extract; d=tempfile.mkdtemp(); "
                f"t0=time.perf_counter(); m,_=extract(Path({str(path)!r}), Path(d)); dt=time.perf_counter()-t0; "
                "c=m['components']; print(c['cut_detection']['summary']['hard_cuts'], round(dt, 2), "
                "c['tempo']['summary']['bpm'], c['loudness']['summary']['integrated_lufs']); "
                "print([int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
        print(f"30 s 1280x720 30 fps H.264 + AAC (900 frames, generated shapes/gradients): "
              f"cuts, s (incl. imports), bpm, LUFS: {out[0]}; peak RSS of the worker process {int(out[1]) / 1024:.0f} MiB")


def kernels(repeat: int = 30) -> None:
    """numpy/OpenCV vs torch-on-CPU for the batched per-frame kernels (one 64-frame batch)."""
    import numpy as np

    from engine.extractors.visual import batched

    rng = np.random.default_rng(0)
    bgr = rng.integers(0, 255, (64, 36, 64, 3), np.uint8)  # cut_detection batch (64 px views)
    gray = rng.integers(0, 255, (64, 180, 320), np.uint8)  # shot_quality batch (320 px luma)
    cases = {
        "cut_features numpy": lambda: batched.cut_features(bgr, None, None),
        "cut_features torch-cpu": lambda: batched.torch_cut_features(bgr, None, None),
        "laplacian_var numpy/cv2": lambda: batched.laplacian_var(gray),
        "laplacian_var torch-cpu": lambda: batched.torch_laplacian_var(gray),
    }
    best = dict.fromkeys(cases, 1e9)
    for _ in range(repeat):
        for k, fn in cases.items():
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    for k, v in best.items():
        print(f"  {k:26s} {v * 1e3:7.2f} ms per 64 frames ({v / 64 * 1e6:6.1f} us/frame)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rss", action="store_true")
    ap.add_argument("--kernels", action="store_true", help="numpy vs torch-on-CPU per-frame kernels")
    ap.add_argument("files", nargs="*", default=["cuts_shared.mp4", "big_buck_bunny_0_30.webm"])
    args = ap.parse_args()
    truth_all = json.loads((MEDIA / "media_truth.json").read_text())
    vidops_extract(MEDIA / "video" / args.files[0])  # warm imports (librosa, scipy, cv2) once
    scenedetect_cuts(MEDIA / "video" / args.files[0])
    for name in args.files:
        path = MEDIA / "video" / name
        truth = truth_all[f"video/{name}"]["hard_cuts"]
        best = {"vidops": 1e9, "scenedetect": 1e9, "grab": 1e9}
        cpu = dict(best)
        paired: list[tuple[float, float]] = []  # per round: vidops / scenedetect, vidops / grab
        for _ in range(args.repeat):
            c0 = time.process_time()
            t_ours, ours, walls = vidops_extract(path)
            best["vidops"], cpu["vidops"] = min(best["vidops"], t_ours), min(cpu["vidops"], time.process_time() - c0)
            c0 = time.process_time()
            t_sd, theirs = scenedetect_cuts(path)
            best["scenedetect"] = min(best["scenedetect"], t_sd)
            cpu["scenedetect"] = min(cpu["scenedetect"], time.process_time() - c0)
            c0 = time.process_time()
            t_grab = grab_all(path)
            best["grab"] = min(best["grab"], t_grab)
            cpu["grab"] = min(cpu["grab"], time.process_time() - c0)
            paired.append((t_ours / t_sd, t_ours / t_grab))
        print(f"{name}: vidops all modules {best['vidops']:.3f} s | scenedetect {best['scenedetect']:.3f} s | "
              f"grab {best['grab']:.3f} s | ratio vs scenedetect {best['vidops'] / best['scenedetect']:.2f} | "
              f"vs grab {best['vidops'] / best['grab']:.2f} | F1 vidops {f1(ours, truth):.3f} "
              f"scenedetect {f1(theirs, truth):.3f} (scenedetect cuts {theirs})")
        print("   best process CPU s (all threads):", {k: round(v, 3) for k, v in cpu.items()})
        med_sd = statistics.median(r[0] for r in paired)
        med_grab = statistics.median(r[1] for r in paired)
        print(f"   median of the per-round ratios: vs scenedetect {med_sd:.2f}, vs grab {med_grab:.2f} "
              f"(rounds within target: {sum(r[0] <= 1.0 and r[1] <= 1.5 for r in paired)}/{len(paired)})")
        print("   per-component wall_s:", {k: round(v, 3) for k, v in walls.items()})
    if args.kernels:
        kernels()
    if args.rss:
        peak_rss()
    print("peak RSS of this process:", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "MiB")


if __name__ == "__main__":
    main()
