"""The embedded default model on coco-val-mini: keypoint AP for each tuning step, and time per stage.

    python benchmarks/default_model.py [--repeat 3]

Keypoint AP (pycocotools) with the GT boxes and end to end with the BlazePose detector (its detections passed
to the pose model as `posekit infer` does, so end to end most people keep the detector's own landmark
pass), for the landmark crop variants and the detector variants that led to posekit's defaults, then
milliseconds per stage
(detector per image, landmark pass per person). Person score for AP: detection score x mean joint score
(GT boxes: mean joint score). coco-val-mini has 12 annotated people, so AP moves in steps of a few
points: read the table as a direction, not a precise ranking. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devkit.shared_data import shared_data_root  # noqa: E402
from posekit.families.blazepose import BlazePoseDetector, BlazePoseLandmarkModel  # noqa: E402
from posekit.families.blazepose.detector import letterbox, tile_windows  # noqa: E402
from posekit.io.images import read_image_rgb  # noqa: E402
from posekit.types import Detections  # noqa: E402

POSE_VARIANTS = {
    "1.25x square crop, no heatmap refinement": dict(
        crop_scales=(1.25,), align=False, heatmap_refinement=False
    ),
    "1.25x square crop": dict(crop_scales=(1.25,), align=False),
    "1.5x square crop": dict(crop_scales=(1.5,), align=False),
    "1.5x square crop, no heatmap refinement": dict(
        crop_scales=(1.5,), align=False, heatmap_refinement=False
    ),
    "1.5x then rotation-aligned 1.5x (MediaPipe ROI), best of both": dict(crop_scales=(1.5,), align=True),
    "best of 1.25x and 1.5x": dict(crop_scales=(1.25, 1.5), align=False),
    "best of 1.25x, 1.5x and aligned (the search on plain boxes)": dict(),
}
HALF_OVERLAP = dict(tile_overlap=0.5, tile_slack=0.0)  # the tile layout before the speed-up
DETECTOR_VARIANTS = {
    "MediaPipe single pass, box from alignment points": dict(tiles=(1.0,), landmark_boxes=False),
    "+ tiles 1.0/0.6/0.4, overlap 0.5": dict(HALF_OVERLAP, landmark_boxes=False),
    "+ boxes from one landmark pass on the 1.5x region": dict(HALF_OVERLAP, region_scale=1.5),
    "+ the pass on MediaPipe's 1.25x region instead": dict(HALF_OVERLAP),
    "+ tile overlap 0.25": dict(tile_slack=0.0),
    "+ no near-copy tiles (slack 0.15, default)": dict(),
    "default, score threshold 0.4": dict(score_threshold=0.4),
    "default, tiles 1.0/0.6": dict(tiles=(1.0, 0.6)),
}


def keypoint_ap(gt: COCO, results: list[dict]) -> float:
    """COCO keypoint AP of `results` (0 when empty)."""
    if not results:
        return 0.0
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(gt, gt.loadRes(results), "keypoints")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0])


def entry(image_id: int, keypoints: np.ndarray, scores: np.ndarray, score: float) -> dict:
    flat = np.concatenate([keypoints, scores[:, None]], axis=1).reshape(-1)
    return {"image_id": image_id, "category_id": 1, "keypoints": flat.tolist(), "score": float(score)}


def ap_gt_boxes(gt: COCO, images: dict, model: BlazePoseLandmarkModel) -> float:
    results = []
    for ann in gt.dataset["annotations"]:
        if ann["num_keypoints"] == 0:
            continue
        x, y, w, h = ann["bbox"]
        box = Detections.from_boxes(np.array([[x, y, x + w, y + h]]))
        poses = model.estimate(images[ann["image_id"]], box)
        keypoints, scores = poses.keypoints, poses.scores
        results.append(entry(ann["image_id"], keypoints[0], scores[0], scores[0].mean()))
    return keypoint_ap(gt, results)


def ap_end_to_end(gt: COCO, images: dict, detector, model: BlazePoseLandmarkModel) -> float:
    results = []
    for image_id, image in images.items():
        found = detector.detect([image])[0]
        poses = model.estimate(image, found)
        keypoints, scores = poses.keypoints, poses.scores
        for i in range(len(found)):
            results.append(entry(image_id, keypoints[i], scores[i], found.scores[i] * scores[i].mean()))
    return keypoint_ap(gt, results)


def timings(images: dict, repeat: int) -> None:
    detector, model = BlazePoseDetector(), BlazePoseLandmarkModel()
    single = BlazePoseLandmarkModel(crop_scales=(1.5,), align=False)
    image = next(iter(images.values()))
    tensor = letterbox(image)[0]
    tflite = detector._interpreter
    start = time.perf_counter()
    for _ in range(repeat * 10):
        tflite.set_tensor(detector._input, tensor)
        tflite.invoke()
    invoke_ms = (time.perf_counter() - start) / (repeat * 10) * 1000
    layout = (detector.tiles, detector.tile_overlap, detector.tile_slack)
    windows = [len(tile_windows(im.shape[1], im.shape[0], *layout)) for im in images.values()]
    detect_ms, people = [], 0
    for _ in range(repeat):
        for im in images.values():
            start = time.perf_counter()
            people += len(detector.detect([im])[0])
            detect_ms.append((time.perf_counter() - start) * 1000)
    box = np.array([[100.0, 50.0, 300.0, 400.0]])
    per_person = {}
    for name, pose in (("one landmark pass (1.5x)", single), ("pose model on a plain box (3 passes)", model)):
        start = time.perf_counter()
        for _ in range(repeat * 5):
            pose.estimate(image, box)
        per_person[name] = (time.perf_counter() - start) / (repeat * 5) * 1000
    print("\n| stage | ms |\n|---|---|")
    print(f"| detector model invoke (224x224) | {invoke_ms:.1f} |")
    label = f"detector per image ({np.mean(windows):.0f} tiles + one landmark pass a person)"
    print(f"| {label} | {np.mean(detect_ms):.0f} |")
    for name, ms in per_person.items():
        print(f"| {name}, per person | {ms:.1f} |")
    print(f"\n{people / repeat:.0f} people found on {len(images)} images per run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    root = shared_data_root()
    if root is None:
        raise SystemExit("../shared/data not found")
    data = root / "coco-val-mini"
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(data / "annotations" / "person_keypoints_val2017.json"))
    names = {im["id"]: im["file_name"] for im in gt.dataset["images"]}
    images = {image_id: read_image_rgb(data / "val2017" / name) for image_id, name in names.items()}
    default_detector = BlazePoseDetector()
    print("| pose model variant | AP, GT boxes | AP, end to end |\n|---|---|---|")
    for name, options in POSE_VARIANTS.items():
        model = BlazePoseLandmarkModel(**options)
        gt_ap, e2e_ap = ap_gt_boxes(gt, images, model), ap_end_to_end(gt, images, default_detector, model)
        print(f"| {name} | {gt_ap:.3f} | {e2e_ap:.3f} |", flush=True)
    model = BlazePoseLandmarkModel()
    print("\n| detector variant (default pose model) | AP, end to end |\n|---|---|")
    for name, options in DETECTOR_VARIANTS.items():
        print(
            f"| {name} | {ap_end_to_end(gt, images, BlazePoseDetector(**options), model):.3f} |", flush=True
        )
    timings(images, args.repeat)


if __name__ == "__main__":
    main()
