"""PoseFlow's peak memory (RSS) on crowds: 50 / 200 / 500 people per frame, candidate pairs vs all pairs.

    python benchmarks/poseflow_memory.py [--people 50 200 500] [--frames 4] [--dense-up-to 200]

Each run is a fresh process tracking a synthetic crowd (people on a grid with jitter, moving 3 px a frame
over a noise picture that also moves, so ORB finds correspondences) and reports its peak RSS (VmHWM) and
the seconds spent in update(). "all pairs" swaps in the dense keypoint terms posekit used before (IoU of
every keypoint square against every other: (N*K) x (M*K) arrays) to show what the change saves; it is
run only up to --dense-up-to people (the dense form needs about 7 GB at 600). Also checks that both give
the same ids. Prints a table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

CHILD = "--child"


def crowd(people: int, frames: int, seed: int = 0):
    """(image, PoseResult) per frame: `people` persons of 17 keypoints on a 1920x1080 frame."""
    from posekit.types import PoseResult

    rng = np.random.default_rng(seed)
    cols = int(np.ceil(np.sqrt(people * 16 / 9)))
    rows = int(np.ceil(people / cols))
    cell_w, cell_h = 1920 / cols, 1080 / rows
    centers = np.array([((i % cols + 0.5) * cell_w, (i // cols + 0.5) * cell_h) for i in range(people)])
    centers += rng.normal(0, 0.1, centers.shape) * [cell_w, cell_h]
    shape = rng.normal(0, 1, (people, 17, 2)) * [cell_w * 0.25, cell_h * 0.3]
    noise = rng.integers(0, 256, (1080 + 64, 1920 + 64, 3), dtype=np.uint8)
    for t in range(frames):
        kps = centers[:, None, :] + shape + 3.0 * t + rng.normal(0, 1.0, shape.shape)
        boxes = np.concatenate([kps.min(1), kps.max(1)], axis=1)
        scores = np.full((people, 17), 0.9)
        image = np.ascontiguousarray(noise[64 - 3 * t : 64 - 3 * t + 1080, 64 - 3 * t : 64 - 3 * t + 1920])
        yield image, PoseResult(boxes, np.ones(people), kps, scores, np.ones(people), [[0.0]] * people)


def dense_terms() -> None:
    """Put back the all-pairs keypoint terms (the code before candidate pairs)."""
    from posekit.track import poseflow as pf

    def dense(kps1, valid1, kps2, valid2, num, mag, pair_iou):
        n, m, k = len(kps1), len(kps2), kps1.shape[1]
        sq1 = pf.keypoint_squares(kps1, mag).reshape(-1, 1, 4)
        sq2 = pf.keypoint_squares(kps2, mag).reshape(1, -1, 4)
        iou = pair_iou(sq1, sq2).reshape(n, k, m, k)
        per_kp = np.einsum("nkmk->nmk", iou) * (valid1[:, None, :] & valid2[None, :, :])
        return pf._top_mean(per_kp, num)

    pf._keypoint_term = dense


def child(people: int, frames: int, mode: str) -> None:
    from posekit.track.poseflow import PoseFlowTracker

    if mode == "all pairs":
        dense_terms()
    tracker, ids, spent = PoseFlowTracker(), [], 0.0
    for image, result in crowd(people, frames):
        start = time.perf_counter()
        ids.append(tracker.update(image, result).ids)
        spent += time.perf_counter() - start
    with open("/proc/self/status") as status:
        peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    print(json.dumps({"peak_mb": peak_kb / 1024, "seconds": spent, "ids": ids}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--dense-up-to", type=int, default=200)
    args = parser.parse_args()
    with open("/proc/cpuinfo") as info:
        text = info.read()
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if "model name" in line), "?")
    flags = sorted({f for f in ("amx_bf16", "avx512_bf16") if f in text.split()})
    print(f"CPU: {model}; native bf16: {', '.join(flags) or 'none'}; {os.cpu_count()} cores")
    print(f"{'people':>6}  {'mode':<16} {'peak RSS MB':>11}  {'update s':>9}  same ids")
    for people in args.people:
        runs = {}
        for mode in ("candidate pairs", "all pairs"):
            if mode == "all pairs" and people > args.dense_up_to:
                continue
            argv = [sys.executable, __file__, CHILD, str(people), str(args.frames), mode]
            done = subprocess.run(argv, capture_output=True, text=True, check=True)
            runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        for mode, run in runs.items():
            same = "" if len(runs) == 1 else str(run["ids"] == runs["candidate pairs"]["ids"])
            print(f"{people:>6}  {mode:<16} {run['peak_mb']:>11.0f}  {run['seconds']:>9.2f}  {same}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == CHILD:
        child(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        main()
