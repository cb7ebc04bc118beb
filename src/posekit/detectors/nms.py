"""AlphaPose's crowd rule over greedy non-maximum suppression (posekit.geometry.nms) for detectors."""

from __future__ import annotations

import numpy as np

from posekit.geometry import nms

# AlphaPose: when NMS leaves more than this many people, it is redone with a stricter IoU threshold.
CROWD_LIMIT = 100
CROWD_STEP = 0.05


def crowd_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    iou_thres: float,
    limit: int = CROWD_LIMIT,
    step: float = CROWD_STEP,
) -> np.ndarray:
    """NMS with AlphaPose's rule: if more than `limit` boxes survive, redo once at `iou_thres - step`.

    AlphaPose counts survivors over a whole detection batch; here the rule is applied per image so a
    result never depends on which other images shared its batch.
    """
    keep = nms(boxes, scores, iou_thres)
    if len(keep) > limit:
        keep = nms(boxes, scores, iou_thres - step)
    return keep
