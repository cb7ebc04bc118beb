"""Which model: keypoint AP, people matched and ms per image on coco-val-mini for posekit's model choices.

    python benchmarks/yolo_pose.py [--repeat 3] [--threads N] [--fastpose CFG CHECKPOINT | --train-fastpose]

Rows, each run through posekit's own pipeline (`posekit.infer.stages.process`, one thread) and results writer,
scored with pycocotools (COCO keypoint AP, OKS sigmas of posekit.evaluate.coco):
  - default model: BlazePose detector + BlazePose landmarks;
  - YOLO11n-pose one-stage (the detector's own keypoints, no pose NMS);
  - YOLO11n-pose boxes + default landmarks;
  - YOLO11n-pose boxes + FastPose: a FastPose config + checkpoint given with --fastpose, or with
    --train-fastpose the tiny FastPose of devkit/train_helpers.overfit_tiny_model (300 steps, about 2 CPU
    minutes on a quiet machine), trained on these same 12 people, so its AP only shows the wiring works,
    not what a real FastPose reaches.
"People matched": annotated people with a result at OKS >= 0.5 (pycocotools' matching). ms per image is
the median over `--repeat` passes of the whole pipeline per image (torch fp32 for YOLO and FastPose,
LiteRT for BlazePose). Needs the YOLO11n-pose file (`posekit models pull yolo11n-pose --accept-license`).
Nothing is asserted; coco-val-mini has only 4 images and 12 people.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devkit.shared_data import shared_data_root  # noqa: E402
from posekit.detectors import build_detector  # noqa: E402
from posekit.evaluate.coco import oks_sigmas  # noqa: E402
from posekit.infer.models import load_pose_estimator  # noqa: E402
from posekit.infer.sources import open_images  # noqa: E402
from posekit.infer.stages import process  # noqa: E402
from posekit.io.results import result_entries  # noqa: E402


def cpu_line() -> str:
    """The CPU model and whether it has AMX / AVX512-BF16."""
    text = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", text)
    flags = sorted(set(re.findall(r"\b(amx_bf16|avx512_bf16)\b", text)))
    name = model.group(1) if model else platform.processor()
    bf16 = ", ".join(flags) or "none (no AMX / AVX512-BF16)"
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"CPU: {name}; native bf16: {bf16}; torch threads {torch.get_num_threads()}; load average {load}"


def score(gt: COCO, results: list[dict]) -> tuple[float, int, int]:
    """(keypoint AP, people matched at OKS >= 0.5, annotated people)."""
    annotated = sum(1 for a in gt.dataset["annotations"] if a["num_keypoints"] > 0 and not a.get("iscrowd"))
    if not results:
        return 0.0, 0, annotated
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = COCOeval(gt, gt.loadRes(results), "keypoints")
        evaluator.params.kpt_oks_sigmas = oks_sigmas(len(gt.dataset["categories"][0]["keypoints"]))
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    all_area = evaluator.params.areaRng[0]
    matched = 0
    for item in evaluator.evalImgs:
        if item is None or item["aRng"] != all_area:
            continue
        real = ~np.asarray(item["gtIgnore"], dtype=bool)
        matched += int((np.asarray(item["gtMatches"])[0][real] > 0).sum())
    return float(evaluator.stats[0]), matched, annotated


def run(gt: COCO, paths: list[Path], detector, pose_model, repeat: int) -> tuple[float, int, int, float]:
    """AP, matched, annotated and median ms per image of one detector + pose model."""
    ids = {im["file_name"]: im["id"] for im in gt.dataset["images"]}
    per_image_ms: list[float] = []
    results: list[dict] = []
    for _ in range(repeat):
        results = []
        for path in paths:
            start = time.perf_counter()
            frames = list(process(open_images([path]), detector, pose_model, detbatch=1, single_thread=True))
            per_image_ms.append((time.perf_counter() - start) * 1000)
            results.extend(result_entries(path.name, frames[0].result, image_id=ids[path.name]))
    ap, matched, annotated = score(gt, results)
    return ap, matched, annotated, statistics.median(per_image_ms)


def tiny_fastpose(coco: Path, work: Path) -> tuple[str, str]:
    """(config yaml, checkpoint) of the overfit tiny FastPose from devkit/train_helpers."""
    from devkit.train_helpers import overfit_tiny_model

    with contextlib.redirect_stdout(io.StringIO()):
        _, summary, cfg_file = overfit_tiny_model(coco, work)
    return str(cfg_file), str(summary.work_dir / "final_DPG.pth")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--fastpose", nargs=2, metavar=("CFG", "CHECKPOINT"), help="a FastPose model")
    parser.add_argument("--train-fastpose", action="store_true", help="train the tiny overfit FastPose")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    root = shared_data_root()
    if root is None:
        raise SystemExit("../shared/data not found")
    coco = root / "coco-val-mini"
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(coco / "annotations" / "person_keypoints_val2017.json"))
    paths = [coco / "val2017" / im["file_name"] for im in gt.dataset["images"]]
    print(cpu_line())
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    print(f"posekit {commit.stdout.strip()}, {len(paths)} images, {args.repeat} passes\n")
    quiet = lambda message: None  # noqa: E731
    blazepose = build_detector("blazepose")
    yolo = build_detector("yolo11n-pose")
    rows = [
        ("default (BlazePose detector + landmarks)", blazepose, load_pose_estimator(None, None, log=quiet)),
        ("YOLO11n-pose one-stage", yolo, load_pose_estimator(None, None, log=quiet, detector=yolo)),
        (
            "YOLO11n-pose boxes + default landmarks",
            yolo,
            load_pose_estimator(None, None, log=quiet, detector=yolo, pose_model="default"),
        ),
    ]
    with tempfile.TemporaryDirectory(prefix="posekit-bench-") as work:
        fastpose = tuple(args.fastpose) if args.fastpose else None
        if args.train_fastpose:
            fastpose = tiny_fastpose(coco, Path(work))
        if fastpose:
            model = load_pose_estimator(*fastpose, log=quiet, backend="torch", precision="fp32")
            label = (
                "tiny FastPose, overfit on these images" if args.train_fastpose else Path(fastpose[1]).name
            )
            rows.append((f"YOLO11n-pose boxes + {label}", yolo, model))
        print("| model | keypoint AP | people matched | ms / image |\n|---|---|---|---|")
        for name, detector, pose_model in rows:
            ap, matched, annotated, ms = run(gt, paths, detector, pose_model, args.repeat)
            print(f"| {name} | {ap:.3f} | {matched}/{annotated} | {ms:.0f} |", flush=True)


if __name__ == "__main__":
    main()
