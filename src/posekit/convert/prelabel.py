"""Predicted people as Labelme shapes (pre-labelling), and adding them to hand-made Labelme files.

A person becomes a `person` polygon and one `point` per keypoint whose score is at least the threshold
(lower ones are left out: an annotator adds a missing point faster than finding and deleting a wrong
one), all with the person's group_id; each point's description holds its score. The polygon is the
rectangle around the detection box and the kept points, clipped to the image: the converter makes a
person's COCO box from its polygons, and COCO's person boxes enclose the whole body (head top, hands,
feet), which a polygon around the keypoints alone would cut off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from posekit.geometry import box_iou
from posekit.io.labelme import PERSON_LABEL, normalize_label
from posekit.io.labelme_write import shape
from posekit.types import PoseResult

DEFAULT_KPT_THR = 0.4  # AlphaPose's drawing threshold: a point it would not draw is not pre-labelled
MERGE_IOU = 0.3  # a predicted person whose box overlaps an annotated one this much is that person


def person_outline(box: np.ndarray, points: np.ndarray, width: int, height: int) -> list[list[float]]:
    """The clipped rectangle around a box (x1, y1, x2, y2) and points (M, 2), as 4 polygon corners."""
    xs = np.concatenate([[box[0], box[2]], points[:, 0]])
    ys = np.concatenate([[box[1], box[3]], points[:, 1]])
    x0, x1 = float(np.clip(xs.min(), 0, width)), float(np.clip(xs.max(), 0, width))
    y0, y1 = float(np.clip(ys.min(), 0, height)), float(np.clip(ys.max(), 0, height))
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def predicted_shapes(
    result: PoseResult,
    names: Sequence[str],
    width: int,
    height: int,
    kpt_thr: float = DEFAULT_KPT_THR,
    first_group_id: int = 1,
) -> list[dict[str, Any]]:
    """Labelme shapes for every person of `result` (group ids from first_group_id on): points with a
    finite position inside the image and a score >= kpt_thr, and the person's outline polygon."""
    if len(names) != result.keypoints.shape[1]:
        raise ValueError(f"{len(names)} keypoint names for {result.keypoints.shape[1]} keypoints")
    shapes: list[dict[str, Any]] = []
    for person in range(len(result)):
        group_id = first_group_id + person
        points = np.asarray(result.keypoints[person], dtype=np.float64)
        scores = np.asarray(result.keypoint_scores[person], dtype=np.float64)
        inside = (points >= 0).all(axis=1) & (points[:, 0] <= width) & (points[:, 1] <= height)
        kept = np.isfinite(points).all(axis=1) & np.isfinite(scores) & inside & (scores >= kpt_thr)
        outline = person_outline(np.asarray(result.boxes[person], np.float64), points[kept], width, height)
        shapes.append(shape(PERSON_LABEL, outline, group_id, "polygon"))
        for joint in np.flatnonzero(kept).tolist():
            x, y = points[joint]
            shapes.append(
                shape(names[joint], [(x, y)], group_id, "point", description=f"score {scores[joint]:.3f}")
            )
    return shapes


def annotated_boxes(shapes: Sequence[Any]) -> tuple[np.ndarray, list[int]]:
    """The xyxy box around each annotated person's polygons (one per group_id) in a Labelme file's raw
    shapes, and every integer group_id in use (points included)."""
    corners: dict[Any, list[tuple[float, float]]] = {}
    used: list[int] = []
    for raw in shapes:
        if not isinstance(raw, dict):
            continue
        group_id = raw.get("group_id")
        if isinstance(group_id, int) and not isinstance(group_id, bool):
            used.append(group_id)
        label = raw.get("label")
        points = raw.get("points")
        if isinstance(label, str) and normalize_label(label) == PERSON_LABEL and isinstance(points, list):
            numbers = [
                p for p in points if isinstance(p, list | tuple) and len(p) == 2 and all(map(_finite, p))
            ]
            corners.setdefault(group_id, []).extend((float(x), float(y)) for x, y in numbers)
    boxes = [
        [min(x for x, _ in pts), min(y for _, y in pts), max(x for x, _ in pts), max(y for _, y in pts)]
        for pts in corners.values()
        if pts
    ]
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4), used


def _finite(value: Any) -> bool:
    """A number a float holds, finite (a hand-made file may hold anything)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def new_people(result: PoseResult, shapes: Sequence[Any], iou: float = MERGE_IOU) -> PoseResult:
    """The predicted people whose box overlaps no annotated person's box by `iou` or more."""
    boxes, _ = annotated_boxes(shapes)
    if not len(boxes) or not len(result):
        return result
    overlaps = box_iou(np.asarray(result.boxes, np.float64), boxes)
    return result.select(overlaps.max(axis=1) < iou)


def next_group_id(shapes: Sequence[Any]) -> int:
    """A group_id above every integer one in use (1 in a file without any)."""
    _, used = annotated_boxes(shapes)
    return max(used, default=0) + 1
