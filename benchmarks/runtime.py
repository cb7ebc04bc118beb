"""Every network on every runtime path, side by side: ms per image (detectors) or per person (FastPose),
and the accuracy cost against fp32 eager PyTorch, on the coco-val-mini images.

    python benchmarks/runtime.py                      # yolox-s, yolox-x, yolov3-spp, fastpose
    python benchmarks/runtime.py --networks yolox-s --repeats 3 --threads 1
    python benchmarks/runtime.py --networks yolo-pose   # YOLO11n-pose: ms per image and one-stage AP

YOLO-pose (the pulled yolo11n-pose file) also gets its one-stage keypoint AP on coco-val-mini per path,
through posekit's pipeline and pycocotools (benchmarks/yolo_pose.py's scoring).

Detectors use random weights whose objectness lets ~3% of anchors through (the tests' recipe: real
weights are user-provided): speed does not depend on the values, and boxes are compared after the
detector's own post-processing (matched one to one by IoU: mean IoU, max score difference, box counts).
"net" is the network alone (backend + fp32 decode), "detect" adds pre-processing and NMS.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from posekit.detectors.batched import BatchedYoloDetector, RawOutputs, splits_decode
from posekit.io.images import list_images, read_image_rgb
from posekit.runtime import build_runner, cpu_has_native_bf16, resolve_backend
from posekit.runtime.torch_backend import TorchBackend

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from devkit.shared_data import shared_data_root
from tests.test_runtime import match_boxes

# path name -> (backend, precision); "fp32-eager" is the plain module, the baseline.
PATHS = {
    "fp32-eager": ("eager", "fp32"),
    "torch-fp32": ("torch", "fp32"),
    "torch-bf16": ("torch", "bf16"),
    "ort-fp32": ("onnx", "fp32"),
    "openvino-fp32": ("openvino", "fp32"),
    "openvino-bf16": ("openvino", "bf16"),
    "openvino-bf16-dynamic-hw": ("openvino-dynamic", "bf16"),  # detectors: free H, W instead of per size
}
NETWORKS = ("yolox-s", "yolox-x", "yolo", "fastpose", "yolo-pose")


def cpu_line() -> str:
    """CPU model and its native-bf16 flags, from /proc/cpuinfo."""
    text = Path("/proc/cpuinfo").read_text(errors="ignore") if Path("/proc/cpuinfo").is_file() else ""
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines() if "model name" in line), "?")
    flags = sorted({f for f in ("amx_bf16", "avx512_bf16") if f in text.split()})
    return f"CPU {model}, {os.cpu_count()} cores, bf16 flags: {', '.join(flags) or 'none'}"


def median_ms(run: Callable[[], object], repeats: int) -> float:
    """Median wall time of run() in ms after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1000


def coco_images() -> list[np.ndarray]:
    root = shared_data_root()
    if root is None or not (root / "coco-val-mini/val2017").is_dir():
        raise SystemExit("needs ../shared/data/coco-val-mini")
    return [read_image_rgb(p) for p in list_images(root / "coco-val-mini/val2017")]


def make_detector(name: str, weights: Path, backend: str, precision: str) -> BatchedYoloDetector:
    """The detector on one path; "eager" puts the plain module (no folding, fp32) behind the runner,
    "openvino-dynamic" one OpenVINO model traced with free height and width."""
    from posekit.detectors import build_detector

    kind = {"eager": "torch", "openvino-dynamic": "openvino"}.get(backend, backend)
    det = build_detector(name, weights=str(weights), backend=kind, precision=precision)
    net = RawOutputs(det.model) if splits_decode(det.model) else det.model
    size = (det.input_size, det.input_size)
    if backend == "eager":
        det.runners.runners[size] = TorchBackend(net)
    elif backend == "openvino-dynamic":
        det.runners.runners[size] = build_runner(net, (1, 3, *size), kind, precision, dynamic_hw=True)
    return det


def random_weights(name: str, folder: Path, images: list[np.ndarray]) -> Path:
    """Random weights that give some persons (the tests' recipe), written into `folder`."""
    from tests.test_detectors import _yolov3_weights, _yolox_checkpoint

    if name == "yolo":
        path = folder / "yolov3-spp.weights"
        _yolov3_weights(path)
        return path
    size = name.split("-")[1]
    return _yolox_checkpoint(size, folder / f"yolox_{size}.pth", images, 640)


def bench_detector(name: str, images, repeats: int, paths: list[str], folder: Path) -> list[tuple]:
    weights = random_weights(name, folder, images)
    rows, reference = [], None
    for path in paths:
        backend, precision = PATHS[path]
        start = time.perf_counter()
        det = make_detector(name, weights, backend, precision)
        det.detect(images[:1])  # builds (traces, compiles) the runner
        setup = time.perf_counter() - start
        dets = det.detect(images)
        reference = reference or dets
        iou, corner, score, count = match_boxes(dets, reference)
        net = np.median([median_ms(lambda im=im, det=det: det.forward([im]), repeats) for im in images])
        total = np.median([median_ms(lambda im=im, det=det: det.detect([im]), repeats) for im in images])
        rows.append((name, path, net, total, iou, corner, score, count, setup))
        print(f"  {name} {path}: net {net:.0f} ms", flush=True)
    return rows


def bench_fastpose(repeats: int, paths: list[str]) -> list[tuple]:
    from devkit.people import coco_mini_people
    from posekit.config import load_config
    from posekit.export.sample import sample_crops_and_boxes
    from posekit.geometry import normalize_crops
    from posekit.models.builder import build_pose_model

    cfg = load_config("configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml")
    torch.manual_seed(0)
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    input_hw = tuple(cfg.data_preset.image_size)
    people = normalize_crops(sample_crops_and_boxes(input_hw, 8, people=coco_mini_people(8))[0])
    rows, reference = [], None
    for path in paths:
        backend, precision = PATHS[path]
        if backend == "openvino-dynamic":
            continue
        start = time.perf_counter()
        if backend == "eager":
            run = TorchBackend(model)
        else:
            run = build_runner(model, people.shape, backend, precision, fp32_output_conv=True)
        setup = time.perf_counter() - start
        heatmaps = run(people)
        reference = heatmaps if reference is None else reference
        rel = float(np.abs(heatmaps - reference).max() / np.abs(reference).max())
        per_person = median_ms(lambda run=run: run(people), repeats) / len(people)
        one = median_ms(lambda run=run: run(people[:1]), repeats)
        rows.append(("fastpose-r50", path, one, per_person, rel, setup))
        print(f"  fastpose {path}: {per_person:.1f} ms/person", flush=True)
    return rows


def bench_yolo_pose(images, repeats: int, paths: list[str]) -> list[tuple]:
    """YOLO11n-pose per path: ms per image (network + decode, and predict), one-stage AP, people."""
    from pycocotools.coco import COCO

    from posekit import modelstore
    from posekit.families.yolo_pose.detector import YoloPoseDetector
    from posekit.families.yolo_pose.preprocess import preprocess
    from posekit.infer.models import load_pose_estimator

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from yolo_pose import run as pipeline_ap

    weights = str(modelstore.pulled_model_path("yolo11n-pose"))
    coco = shared_data_root() / "coco-val-mini"
    gt = COCO(str(coco / "annotations/person_keypoints_val2017.json"))
    files = [coco / "val2017" / im["file_name"] for im in gt.dataset["images"]]
    rows = []
    for path in paths:
        backend, precision = PATHS[path]
        if backend == "openvino-dynamic":
            continue
        start = time.perf_counter()
        kind = "torch" if backend == "eager" else backend
        det = YoloPoseDetector(weights=weights, backend=kind, precision=precision)
        if backend == "eager":
            det.runners = TorchBackend(RawOutputs(det.network))
        det.detect(images[:1])
        setup = time.perf_counter() - start
        batches = [preprocess([image])[0] for image in images]
        net = np.median([median_ms(lambda b=b, det=det: det.run_network(b), repeats) for b in batches])
        total = np.median([median_ms(lambda im=im, det=det: det.predict([im]), repeats) for im in images])
        pose = load_pose_estimator(None, None, log=lambda message: None, detector=det)
        ap, matched, annotated, _ = pipeline_ap(gt, files, det, pose, 1)
        rows.append(("yolo11n-pose", path, net, total, ap, f"{matched}/{annotated}", setup))
        print(f"  yolo11n-pose {path}: net {net:.0f} ms, AP {ap:.4f}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS), choices=NETWORKS)
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=list(PATHS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="threads of every backend (default: torch's)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)  # openvino and onnxruntime runners take torch's count
    images = coco_images()
    print(cpu_line())
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"native bf16: {cpu_has_native_bf16()}, auto = {resolve_backend('auto')} / precision auto; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    det_rows, pose_rows, yolo_rows = [], [], []
    with torch.inference_mode(), tempfile.TemporaryDirectory() as tmp:
        for name in args.networks:
            if name == "fastpose":
                pose_rows += bench_fastpose(args.repeats, args.paths)
            elif name == "yolo-pose":
                yolo_rows += bench_yolo_pose(images, args.repeats, args.paths)
            else:
                det_rows += bench_detector(name, images, args.repeats, args.paths, Path(tmp))
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if det_rows:
        print(
            f"\ndetectors, batch 1, median over {len(images)} coco-val-mini images x {args.repeats} repeats"
        )
        print(
            "| network | path | net ms/image | x eager | detect ms/image | mean IoU vs eager | "
            "max corner diff px | max score diff | box count diff | setup s |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        base = {}
        for name, path, net, total, iou, corner, score, count, setup in det_rows:
            base.setdefault(name, net)
            print(
                f"| {name} | {path} | {net:.0f} | {base[name] / net:.2f} | {total:.0f} | {iou:.4f} | "
                f"{corner:.2f} | {score:.4f} | {count} | {setup:.1f} |"
            )
    if pose_rows:
        print("\nFastPose ResNet-50 256x192 (random weights), 8 coco-val-mini people")
        print(
            "| network | path | batch 1 ms | batch 8 ms/person | x eager | max heatmap diff / max | setup s |"
        )
        print("|---|---|---:|---:|---:|---:|---:|")
        base = {}
        for name, path, one, per_person, rel, setup in pose_rows:
            base.setdefault(name, per_person)
            print(
                f"| {name} | {path} | {one:.1f} | {per_person:.1f} | {base[name] / per_person:.2f} | "
                f"{rel:.2e} | {setup:.1f} |"
            )
    if yolo_rows:
        print(
            "\nYOLO11n-pose, batch 1, each image letterboxed to its minimal rectangle; "
            "AP: one-stage on coco-val-mini"
        )
        print(
            "| network | path | net ms/image | x eager | predict ms/image | keypoint AP | "
            "people matched | setup s |"
        )
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        base = {}
        for name, path, net, total, ap, matched, setup in yolo_rows:
            base.setdefault(name, net)
            print(
                f"| {name} | {path} | {net:.0f} | {base[name] / net:.2f} | {total:.0f} | {ap:.4f} | "
                f"{matched} | {setup:.1f} |"
            )


if __name__ == "__main__":
    main()
