"""gt-box and det-box validation (AlphaPose's validate.py): pose results on the val images, then COCO mAP.

gt box: each ground-truth person box goes through the pose model (score mean + 1.25 max, no NMS).
det box: boxes from DATASET.TEST.DET_FILE (made by running a detector when the file is missing) go
through the pose model (score det + mean + 1.25 max), optionally followed by pose NMS.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from posekit.config import Config, DatasetSplit
from posekit.errors import PosekitError
from posekit.evaluate.coco import evaluate_keypoints
from posekit.io.atomic import atomic_write_json
from posekit.io.coco import read_coco_people
from posekit.io.detections import read_detections, write_detections
from posekit.io.images import read_image_rgb
from posekit.io.jsonio import read_json
from posekit.io.results import result_entries
from posekit.pose.nms import pose_nms
from posekit.pose.types import PoseModel
from posekit.types import Detections, PoseResult


def _images(split: DatasetSplit) -> dict[int, dict]:
    data = read_json(split.ann_path, "annotation file")
    return {image["id"]: image for image in data.get("images", [])}


def gt_box_results(pose_model: PoseModel, cfg: Config) -> list[dict]:
    """Pose results for every usable ground-truth person of DATASET.VAL, from its own box."""
    people, _ = read_coco_people(cfg.dataset.val.coco_files, cfg.data_preset.num_joints)
    by_image = defaultdict(list)
    for person in people:
        by_image[(person.image_id, person.image_path)].append(person.box)
    results = []
    for (image_id, path), person_boxes in tqdm(by_image.items(), desc="gt box", leave=False):
        boxes = np.array(person_boxes, dtype=np.float64)
        poses = pose_model.estimate(read_image_rgb(path), Detections.from_boxes(boxes))
        keypoints, scores = poses.keypoints, poses.scores
        person = scores.mean(axis=1) + 1.25 * scores.max(axis=1)
        result = PoseResult(boxes, np.ones(len(boxes)), keypoints, scores, person)
        results += result_entries(Path(path).name, result, image_id=image_id)
    return results


def validate_gt_boxes(pose_model: PoseModel, cfg: Config, out_json: str | Path) -> float:
    """gt-box mAP on DATASET.VAL; the results are written to out_json."""
    results = gt_box_results(pose_model, cfg)
    atomic_write_json(out_json, results)
    return evaluate_keypoints(cfg.dataset.val.ann_path, results)["AP"]


def ensure_detections(
    cfg: Config,
    detector_name: str | None = None,
    device: str = "cpu",
    weights: str | None = None,
    **detector_options,
) -> Path:
    """DATASET.TEST.DET_FILE, created by running the detector (weights: its file, else the usual places;
    detector_options: build_detector's, e.g. backend) over the test images when missing."""
    split = _test_split(cfg)
    det_file = Path(split.det_file)
    if det_file.is_file():
        print("Detection results exist, will use it")
        return det_file
    from posekit.detectors import build_detector

    print(f"Will create detection results to {det_file}")
    name = detector_name or cfg.detector.name
    detector = build_detector(name, weights=weights, device=device, **detector_options)
    images = _images(split)
    dets, ids = [], []
    for image_id, image in tqdm(images.items(), desc="detect", leave=False):
        dets.extend(detector.detect([read_image_rgb(split.image_dir / image["file_name"])]))
        ids.append(image_id)
    return write_detections(det_file, dets, ids)


def det_box_results(pose_model: PoseModel, cfg: Config, det_file: Path, nms: str | None = None) -> list[dict]:
    """Pose results for every detection of `det_file` on DATASET.TEST's images."""
    split = _test_split(cfg)
    images = _images(split)
    results = []
    for image_id, dets in tqdm(read_detections(det_file).items(), desc="det box", leave=False):
        if image_id not in images:
            raise PosekitError(f"{det_file}: image_id {image_id} is not in {split.ann_path}")
        boxes, box_scores = dets.boxes, dets.scores
        name = images[image_id]["file_name"]
        poses = pose_model.estimate(read_image_rgb(split.image_dir / name), dets)
        keypoints, scores = poses.keypoints, poses.scores
        if nms:
            inp_h, inp_w = cfg.data_preset.image_size
            result = pose_nms(boxes, box_scores, keypoints, scores, method=nms, crop_aspect=inp_w / inp_h)
        else:
            person = box_scores + scores.mean(axis=1) + 1.25 * scores.max(axis=1)
            result = PoseResult(boxes, box_scores, keypoints, scores, person)
        results += result_entries(name, result, image_id=image_id)
    return results


def validate_det_boxes(
    pose_model: PoseModel,
    cfg: Config,
    out_json: str | Path,
    detector: str | None = None,
    nms: str | None = None,
    device: str = "cpu",
    detector_weights: str | None = None,
    detector_options: dict | None = None,
) -> float:
    """det-box mAP on DATASET.TEST (DET_FILE, or the detector's boxes); results written to out_json.
    detector_options go to build_detector (e.g. backend, precision)."""
    det_file = ensure_detections(cfg, detector, device, detector_weights, **(detector_options or {}))
    results = det_box_results(pose_model, cfg, det_file, nms)
    if not results and nms:
        raise PosekitError(
            f"{det_file}: {nms} pose NMS kept no pose (no pose reaches a keypoint score of 0.3)"
        )
    ann_path = _test_split(cfg).ann_path
    if not results:
        raise PosekitError(f"{det_file}: no person detections for the images of {ann_path}")
    atomic_write_json(out_json, results)
    return evaluate_keypoints(ann_path, results)["AP"]


def _test_split(cfg: Config) -> DatasetSplit:
    if cfg.dataset.test is None:
        raise PosekitError(f"{cfg.path}: no DATASET.TEST section (needed for det-box validation)")
    return cfg.dataset.test
