"""Detection files: the COCO-style person detection list (AlphaPose's DET_FILE, `--detfile`).

One json list of {image_id, category_id, bbox [x, y, w, h], score}; only person entries (category_id 1,
the default when absent) are read. Written by det-box validation when DET_FILE is missing, read there
and by inference instead of a detector.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np

from posekit.errors import PosekitError, brief
from posekit.io.atomic import atomic_write_json
from posekit.io.coco import PERSON_CATEGORY_ID
from posekit.io.entries import field, finite_number, finite_numbers
from posekit.io.jsonio import read_json
from posekit.types import Detections


def read_detections(path: str | Path) -> dict[Hashable, Detections]:
    """The person detections of each image_id (as the file spells it), in file order: xyxy float64 boxes
    and scores (1.0 when an entry has none). Every number must be finite (posekit.io.entries); raises
    PosekitError naming the file and the bad entry."""
    entries = read_json(path, "detection file")
    if not isinstance(entries, list):
        raise PosekitError(f"{path}: expected a JSON list of {{image_id, bbox, score}} entries")
    grouped: dict[Hashable, list[tuple[list[float], float]]] = {}
    for n, entry in enumerate(entries):
        where = f"entry {n}"
        category = finite_number(path, where, entry, "category_id", default=PERSON_CATEGORY_ID)
        if category != PERSON_CATEGORY_ID:
            continue
        image_id = field(path, where, entry, "image_id")
        if not isinstance(image_id, int | str) or isinstance(image_id, bool):
            raise PosekitError(f"{path}: {where} has image_id {brief(image_id)}, expected a number or a name")
        where = f"entry {n} (image {brief(image_id)})"
        x, y, w, h = finite_numbers(path, where, entry, "bbox")
        score = finite_number(path, where, entry, "score", default=1.0)
        grouped.setdefault(image_id, []).append(([x, y, x + w, y + h], score))
    return {
        image_id: Detections(
            np.array([box for box, _ in dets], dtype=np.float64).reshape(-1, 4),
            np.array([score for _, score in dets], dtype=np.float64),
        )
        for image_id, dets in grouped.items()
    }


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
