"""Decoding the BlazePose detector's SSD outputs as MediaPipe's pose_detection graph does
(google-ai-edge/mediapipe, mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt): SSD anchors
(5 layers, strides 8/16/32/32/32, offsets 0.5, fixed size, 2 anchors per layer -> 2254), raw boxes as
x/y/w/h scaled by 224 around the anchor centres, 4 alignment keypoints (0 mid-hip, 1 full-body size and
rotation point, 2 mid-shoulder, 3 upper-body point), sigmoid scores clipped at +-100, and weighted NMS
(IoU > 0.3 on the detection box)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from posekit.geometry import box_iou

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
ANCHOR_OFFSET = 0.5
RAW_SCALE = 224.0  # x_scale = y_scale = w_scale = h_scale
SCORE_CLIP = 100.0
NUM_KEYPOINTS = 4


@lru_cache(maxsize=1)
def ssd_anchors() -> np.ndarray:
    """Anchor centres (2254, 2) in [0, 1] as MediaPipe's SsdAnchorsCalculator builds them.

    Consecutive layers with the same stride share one feature map; each layer adds two anchors per cell
    (aspect ratio 1 and the interpolated scale). fixed_anchor_size makes every anchor 1 x 1.
    """
    centres = []
    layer = 0
    while layer < len(STRIDES):
        per_cell = 0
        last = layer
        while last < len(STRIDES) and STRIDES[last] == STRIDES[layer]:
            per_cell += 2
            last += 1
        size = int(np.ceil(INPUT_SIZE / STRIDES[layer]))
        ys, xs = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
        grid = np.stack([(xs + ANCHOR_OFFSET) / size, (ys + ANCHOR_OFFSET) / size], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0))
        layer = last
    return np.concatenate(centres).astype(np.float32)


def decode(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model outputs (2254, 12), (2254,) -> scores (M,), boxes (M, 4) xyxy and keypoints (M, 4, 2), all in
    224-input pixels, for the anchors scoring at least `threshold`."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    keep = scores >= threshold
    raw, anchors = raw_boxes[keep], ssd_anchors()[keep] * INPUT_SIZE
    centre = raw[:, :2] / RAW_SCALE * INPUT_SIZE + anchors
    half = raw[:, 2:4] / RAW_SCALE * INPUT_SIZE / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:12].reshape(-1, NUM_KEYPOINTS, 2) / RAW_SCALE * INPUT_SIZE + anchors[:, None]
    valid = (half >= 0).all(axis=1)  # MediaPipe drops only negative sizes
    return scores[keep][valid], boxes[valid], keypoints[valid]


def weighted_nms(
    scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's WEIGHTED non-max suppression: the best remaining detection absorbs every detection
    overlapping it by IoU > threshold (itself included); its box and keypoints become their
    score-weighted mean, its score stays the best score."""
    order = np.argsort(-scores, kind="stable")
    out_scores, out_boxes, out_keypoints = [], [], []
    while order.size:
        top = order[0]
        overlap = box_iou(boxes[top], boxes[order])[0] > iou_threshold
        overlap[0] = True  # a degenerate (zero-area) box still absorbs itself
        members = order[overlap]
        weights = scores[members][:, None]
        total = weights.sum()
        out_scores.append(scores[top])
        out_boxes.append((boxes[members] * weights).sum(axis=0) / total)
        out_keypoints.append((keypoints[members] * weights[:, :, None]).sum(axis=0) / total)
        order = order[~overlap]
    if not out_scores:
        return np.zeros((0,), np.float32), np.zeros((0, 4), np.float32), np.zeros((0, NUM_KEYPOINTS, 2))
    return np.array(out_scores), np.array(out_boxes), np.array(out_keypoints)
