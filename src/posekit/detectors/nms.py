"""Greedy non-maximum suppression over xyxy boxes (numpy, no torchvision), and AlphaPose's crowd rule."""

from __future__ import annotations

import numpy as np

# AlphaPose: when NMS leaves more than this many people, it is redone with a stricter IoU threshold.
CROWD_LIMIT = 100
CROWD_STEP = 0.05


ROW_CHUNK = 1024  # IoU rows computed at once: bounds memory to ROW_CHUNK x N floats


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every xyxy box in `a` (M, 4) with every box in `b` (N, 4); continuous coordinates (no +1)."""
    ix1 = np.maximum(a[:, None, 0], b[None, :, 0])
    iy1 = np.maximum(a[:, None, 1], b[None, :, 1])
    ix2 = np.minimum(a[:, None, 2], b[None, :, 2])
    iy2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(ix2 - ix1, 0, None) * np.clip(iy2 - iy1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thres: float) -> np.ndarray:
    """Greedy NMS: indices of kept boxes, highest score first.

    A box is dropped when its IoU with an already kept, higher-scoring box is > `iou_thres`.
    Ties in score keep the earlier index first (stable order), so results are deterministic.
    IoUs are computed a block of rows at a time; the greedy pass is one vector OR per kept box.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    ranked = boxes[order]
    count = len(ranked)
    removed = np.zeros(count, dtype=bool)
    keep: list[int] = []
    for start in range(0, count, ROW_CHUNK):
        stop = min(start + ROW_CHUNK, count)
        overlaps = iou_matrix(ranked[start:stop], ranked[start:]) > iou_thres
        for i in range(start, stop):
            if not removed[i]:
                keep.append(i)
                removed[i + 1 :] |= overlaps[i - start, i + 1 - start :]
    return order[np.asarray(keep, dtype=np.int64)]


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
