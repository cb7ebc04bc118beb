"""Decode + pose NMS time: 64 people at once, and frames of 10 people (run by hand).

python benchmarks/postprocess.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from posekit.pose.decode import decode_heatmaps
from posekit.pose.nms import pose_nms


def synthetic(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n people: Gaussian heatmaps (n, 17, 64, 48) at random joints, crop boxes and detection scores."""
    ys, xs = np.mgrid[0:64, 0:48]
    centres = rng.uniform(3, [45, 61], (n, 17, 2))
    maps = np.exp(-((xs - centres[..., 0, None, None]) ** 2 + (ys - centres[..., 1, None, None]) ** 2) / 8)
    x = rng.uniform(0, 1500, n)
    y = rng.uniform(0, 800, n)
    boxes = np.column_stack([x, y, x + 150, y + 200])
    return maps.astype(np.float32), boxes, rng.uniform(0.5, 1, n)


def timed(fn, repeat: int) -> float:
    """Median milliseconds of fn() over `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for n in (10, 64):
        maps, boxes, scores = synthetic(n, rng)

        def decode(maps=maps, boxes=boxes):
            return decode_heatmaps(maps, boxes)

        kp, kp_scores = decode()

        def nms(boxes=boxes, scores=scores, kp=kp, kp_scores=kp_scores):
            return pose_nms(boxes, scores, kp, kp_scores)

        refine_ms = timed(
            lambda maps=maps, boxes=boxes: decode_heatmaps(maps, boxes, subpixel=True),
            max(5, args.repeat // 10),
        )
        d, p = timed(decode, args.repeat), timed(nms, args.repeat)
        print(
            f"{n:3d} people: decode {d:.2f} ms + pose NMS {p:.2f} ms = {d + p:.2f} ms "
            f"(refined decode {refine_ms:.2f} ms)"
        )


if __name__ == "__main__":
    main()
