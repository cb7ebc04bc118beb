"""Person-detector speed: images/s for YOLOv3-SPP and each YOLOX size at its default input size.

    python benchmarks/detect.py                       # every detector, coco-val-mini images
    python benchmarks/detect.py --detectors yolox-s yolo --batch 4 --repeat 3 --backend torch --precision fp32

The network runs on --backend/--precision (posekit.runtime; default auto, as `posekit infer`);
benchmarks/runtime.py puts every path side by side.

Uses the real weight files when they are where posekit looks for them (./detector/..., the models folder);
otherwise the same network with untrained weights: the network's speed does not depend on the values,
but the number of boxes reaching NMS does, so the forward pass alone is reported too.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

from posekit.detectors import build_detector
from posekit.detectors.batched import BatchedYoloDetector
from posekit.detectors.yolov3 import CONF_THRES, INPUT_SIZE, NMS_THRES, YOLOv3SPPDetector, build_darknet
from posekit.detectors.yolox import INPUT_SIZE as YOLOX_INPUT_SIZE
from posekit.detectors.yolox import YOLOXDetector, size_of
from posekit.detectors.yolox_net import YOLOX
from posekit.errors import MissingFileError
from posekit.io.images import list_images, read_image_rgb
from posekit.runtime import BACKEND_CHOICES, PRECISIONS

NAMES = ["yolo", "yolox-nano", "yolox-tiny", "yolox-s", "yolox-m", "yolox-l", "yolox-x"]
SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared/data/coco-val-mini/val2017"


def load_images(count: int) -> list[np.ndarray]:
    """coco-val-mini images when present (640 px wide), else random 640x480 images."""
    if SHARED_IMAGES.is_dir():
        images = [read_image_rgb(p) for p in list_images(SHARED_IMAGES)]
    else:
        rng = np.random.default_rng(0)
        images = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(4)]
    return [images[i % len(images)] for i in range(count)]


def make_detector(name: str, batch: int, runtime: tuple[str, str]) -> tuple[BatchedYoloDetector, str]:
    """The detector on real weights if available, else on untrained weights; runtime (backend, precision)."""
    try:
        return build_detector(
            name, batch_size=batch, backend=runtime[0], precision=runtime[1]
        ), "real weights"
    except MissingFileError:
        pass
    if name == "yolo":
        det = YOLOv3SPPDetector.__new__(YOLOv3SPPDetector)
        BatchedYoloDetector.__init__(
            det, name, build_darknet(), "cpu", INPUT_SIZE, CONF_THRES, NMS_THRES, batch, *runtime
        )
    else:
        det = YOLOXDetector.__new__(YOLOXDetector)
        model = YOLOX(size_of(name))
        BatchedYoloDetector.__init__(det, name, model, "cpu", YOLOX_INPUT_SIZE, 0.1, 0.6, batch, *runtime)
    return det, "untrained weights"


def bench(
    name: str, images: list[np.ndarray], batch: int, repeat: int, runtime: tuple[str, str]
) -> dict[str, float | str]:
    """Best-of-`repeat` throughput of detect() and of the network forward alone."""
    det, weights = make_detector(name, batch, runtime)
    for _ in range(2):  # warm-up: the first calls build the CPU kernels for this input size
        det.detect(images[:batch])
    best_total, best_forward = float("inf"), float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        det.detect(images)
        best_total = min(best_total, time.perf_counter() - start)
        start = time.perf_counter()
        for i in range(0, len(images), batch):
            det.forward(images[i : i + batch])
        best_forward = min(best_forward, time.perf_counter() - start)
    return {
        "name": name,
        "input": det.input_size,
        "weights": weights,
        "images_per_s": len(images) / best_total,
        "forward_images_per_s": len(images) / best_forward,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--detectors", nargs="+", default=NAMES, choices=NAMES)
    parser.add_argument("--images", type=int, default=4, help="images per timed run")
    parser.add_argument("--batch", type=int, default=1, help="images per forward pass (--detbatch)")
    parser.add_argument("--repeat", type=int, default=2, help="timed runs; the best is reported")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--backend", default="auto", choices=BACKEND_CHOICES)
    parser.add_argument("--precision", default="auto", choices=PRECISIONS)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    images = load_images(args.images)
    threads, load = torch.get_num_threads(), os.getloadavg()[0]
    print(f"torch {torch.__version__}, {threads} threads, {len(images)} images, batch {args.batch}", end="")
    print(f", backend {args.backend}, precision {args.precision}, 1-min load average {load:.1f}")
    print(f"{'detector':<12} {'input':>5} {'images/s':>9} {'forward/s':>10}  weights")
    for name in args.detectors:
        r = bench(name, images, args.batch, args.repeat, (args.backend, args.precision))
        print(
            f"{r['name']:<12} {r['input']:>5} {r['images_per_s']:>9.2f} "
            f"{r['forward_images_per_s']:>10.2f}  {r['weights']}",
            flush=True,
        )


if __name__ == "__main__":
    with torch.inference_mode():
        main()
