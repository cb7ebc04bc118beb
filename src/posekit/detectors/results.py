"""Detection-result files: the COCO detection list AlphaPose's DET_FILE and det-box validation read."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posekit.io.atomic import atomic_write_json
from posekit.types import Detections

PERSON_CATEGORY_ID = 1


def detection_entries(dets: Detections, image_id: int) -> list[dict]:
    """One image's detections as COCO entries {image_id, category_id: 1, bbox: [x, y, w, h], score}."""
    boxes = np.asarray(dets.boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(dets.scores, dtype=np.float64).reshape(-1)
    return [
        {
            "image_id": int(image_id),
            "category_id": PERSON_CATEGORY_ID,
            "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
            "score": float(score),
        }
        for (x1, y1, x2, y2), score in zip(boxes, scores)
    ]


def write_detections(
    path: str | Path, per_image_dets: Sequence[Detections], image_ids: Sequence[int]
) -> Path:
    """Write every image's detections to one COCO detection json (atomically); returns the path."""
    if len(per_image_dets) != len(image_ids):
        raise ValueError(f"{len(per_image_dets)} detection sets for {len(image_ids)} image ids")
    entries = [
        e for dets, image_id in zip(per_image_dets, image_ids) for e in detection_entries(dets, image_id)
    ]
    atomic_write_json(path, entries)
    return Path(path)
