"""Benchmark: whole vidops extraction vs PySceneDetect ContentDetector vs bare cv2 decoding.

    .venv/bin/python bench/extract_vs_scenedetect.py [--repeat 3] [--rss]

Per file, in one process, interleaved and repeated (best of N): (a) vidops probe + all
default modules (one worker, a RunDir in a temp dir; imports done beforehand), (b)
scenedetect 0.7.2 ``detect(path, ContentDetector())`` (OpenCV backend, default settings),
(c) ``cv2.VideoCapture.grab()`` over all frames. Prints times, ratios and hard-cut F1 (+-2
frames) of both tools. ``--rss`` measures peak RSS of a fresh process extracting a generated
30 s 720p video.
"""

from __future__ import annotations

import argparse
import json
import resource
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


def peak_rss() -> None:
    import av
    import numpy as np

    from tests.extractors_support.synth import _shot_frame  # noqa: F401 - import check only

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "720p.mp4"
        with av.open(str(path), "w") as out:
            vs = out.add_stream("libx264", rate=30)
            vs.width, vs.height, vs.pix_fmt = 1280, 720, "yuv420p"
            vs.options = {"preset": "ultrafast", "crf": "23"}
            base = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), np.uint8)
            for i in range(900):
                img = np.roll(base, 4 * i, axis=1) if (i // 150) % 2 == 0 else 255 - np.roll(base, 3 * i, axis=0)
                for pkt in vs.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                    out.mux(pkt)
            for pkt in vs.encode():
                out.mux(pkt)
        code = (f"import resource,sys,tempfile; sys.path.insert(0, {str(REPO)!r}); from pathlib import Path; "
                "from tests.extractors_support.run import extract; d=tempfile.mkdtemp(); "
                f"m,_=extract(Path({str(path)!r}), Path(d)); print(m['components']['cut_detection']['summary']['hard_cuts']); "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
        print(f"30 s 1280x720 30 fps H.264 (900 frames): cuts {out[0]}; peak RSS {int(out[1]) / 1024:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rss", action="store_true")
    ap.add_argument("files", nargs="*", default=["cuts_shared.mp4", "big_buck_bunny_0_30.webm"])
    args = ap.parse_args()
    truth_all = json.loads((MEDIA / "media_truth.json").read_text())
    vidops_extract(MEDIA / "video" / args.files[0])  # warm imports (librosa, scipy, cv2) once
    scenedetect_cuts(MEDIA / "video" / args.files[0])
    for name in args.files:
        path = MEDIA / "video" / name
        truth = truth_all[f"video/{name}"]["hard_cuts"]
        best = {"vidops": 1e9, "scenedetect": 1e9, "grab": 1e9}
        for _ in range(args.repeat):
            dt, ours, walls = vidops_extract(path)
            best["vidops"] = min(best["vidops"], dt)
            dt, theirs = scenedetect_cuts(path)
            best["scenedetect"] = min(best["scenedetect"], dt)
            best["grab"] = min(best["grab"], grab_all(path))
        print(f"{name}: vidops all modules {best['vidops']:.3f} s | scenedetect {best['scenedetect']:.3f} s | "
              f"grab {best['grab']:.3f} s | ratio vs scenedetect {best['vidops'] / best['scenedetect']:.2f} | "
              f"vs grab {best['vidops'] / best['grab']:.2f} | F1 vidops {f1(ours, truth):.3f} "
              f"scenedetect {f1(theirs, truth):.3f} (scenedetect cuts {theirs})")
        print("   per-component wall_s:", {k: round(v, 3) for k, v in walls.items()})
    if args.rss:
        peak_rss()
    print("peak RSS of this process:", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, "MiB")


if __name__ == "__main__":
    main()
