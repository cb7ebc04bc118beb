"""YOLO-pose output -> people: confidence filter, greedy NMS, and mapping back to the original image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.detectors.nms import nms
from posekit.families.yolo_pose.preprocess import Letterbox

CONF_THRES = 0.25
IOU_THRES = 0.7
MAX_DET = 300
MAX_NMS = 30000
MAX_WH = 7680  # class offset that keeps classes apart in one NMS pass


@dataclass
class PosePredictions:
    """One image's people: boxes (N, 4) xyxy, scores (N,), classes (N,), keypoints (N, K, 2) in image
    pixels, keypoint_scores (N, K) (sigmoid visibility; None for [K, 2] models), best first."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray
    keypoints: np.ndarray
    keypoint_scores: np.ndarray | None


def non_max_suppression(
    output: np.ndarray,
    nc: int,
    conf_thres: float = CONF_THRES,
    iou_thres: float = IOU_THRES,
    max_det: int = MAX_DET,
    agnostic: bool = False,
) -> np.ndarray:
    """One image's decoded output (4 + nc + extra, A) -> kept rows (M, 6 + extra) in input pixels:
    x1, y1, x2, y2, score, class, then the extra (keypoint) values, in descending score."""
    output = np.asarray(output, dtype=np.float32)
    class_scores = output[4 : 4 + nc]
    best = class_scores.max(axis=0)
    candidates = np.flatnonzero(best > conf_thres)
    rows = output[:, candidates].T
    if len(rows) > MAX_NMS:
        rows = rows[np.argsort(-best[candidates], kind="stable")[:MAX_NMS]]
    xy, half = rows[:, 0:2], rows[:, 2:4] / np.float32(2)
    boxes = np.concatenate((xy - half, xy + half), axis=1)
    scores = rows[:, 4 : 4 + nc].max(axis=1)
    classes = rows[:, 4 : 4 + nc].argmax(axis=1).astype(np.float32)
    offset = 0.0 if agnostic else classes[:, None] * MAX_WH
    keep = nms(boxes + offset, scores, iou_thres)[:max_det]
    return np.concatenate(
        (boxes[keep], scores[keep, None], classes[keep, None], rows[keep, 4 + nc :]), axis=1
    ).astype(np.float32)


def _to_image(points: np.ndarray, box: Letterbox) -> np.ndarray:
    """(..., 2) input-pixel x, y -> original-image pixels, clipped to [0, W] x [0, H]."""
    gain = min(box.input_h / box.height, box.input_w / box.width)
    new_h, new_w = max(round(box.height * gain), 1), max(round(box.width * gain), 1)
    pad_x = round((box.input_w - new_w) / 2 - 0.1)
    pad_y = round((box.input_h - new_h) / 2 - 0.1)
    out = np.empty_like(points, dtype=np.float32)
    out[..., 0] = np.clip((points[..., 0] - pad_x) / (new_w / box.width), 0, box.width)
    out[..., 1] = np.clip((points[..., 1] - pad_y) / (new_h / box.height), 0, box.height)
    return out


def scale_to_image(rows: np.ndarray, box: Letterbox, kpt_shape: tuple[int, int]) -> PosePredictions:
    """Kept NMS rows of one image -> PosePredictions in the original image's pixels."""
    count, (joints, dims) = len(rows), kpt_shape
    kpts = rows[:, 6:].reshape(count, joints, dims)
    return PosePredictions(
        boxes=_to_image(rows[:, :4].reshape(count, 2, 2), box).reshape(count, 4),
        scores=rows[:, 4].copy(),
        classes=rows[:, 5].astype(np.int64),
        keypoints=_to_image(kpts[..., :2], box),
        keypoint_scores=kpts[..., 2].copy() if dims == 3 else None,
    )


def postprocess(
    output: np.ndarray,
    letterboxes: list[Letterbox],
    kpt_shape: tuple[int, int],
    nc: int = 1,
    conf_thres: float = CONF_THRES,
    iou_thres: float = IOU_THRES,
    max_det: int = MAX_DET,
) -> list[PosePredictions]:
    """The network's (B, 4 + nc + K*D, A) output -> per image people in original-image pixels."""
    return [
        scale_to_image(non_max_suppression(out, nc, conf_thres, iou_thres, max_det), box, kpt_shape)
        for out, box in zip(np.asarray(output), letterboxes)
    ]
