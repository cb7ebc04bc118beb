"""Annotated people of coco-val-mini as (image RGB, box xyxy) pairs, for export and backend checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from devkit.shared_data import shared_data_root
from posekit.io.images import read_image_rgb


def coco_mini_root() -> Path | None:
    """coco-val-mini beside the repo (devkit.shared_data), else None."""
    root = shared_data_root()
    candidate = root / "coco-val-mini" if root else None
    if candidate and (candidate / "annotations" / "person_keypoints_val2017.json").is_file():
        return candidate
    return None


def coco_mini_people(limit: int = 16) -> list[tuple[np.ndarray, np.ndarray]]:
    """(image RGB, box xyxy) for annotated people of coco-val-mini, or [] when it is not there."""
    root = coco_mini_root()
    if root is None:
        return []
    data = json.loads((root / "annotations" / "person_keypoints_val2017.json").read_text(encoding="utf-8"))
    files = {img["id"]: img["file_name"] for img in data["images"]}
    images: dict[int, np.ndarray] = {}
    people = []
    for ann in data["annotations"]:
        if ann.get("num_keypoints", 0) == 0 or ann["image_id"] not in files:
            continue
        if ann["image_id"] not in images:
            images[ann["image_id"]] = read_image_rgb(root / "val2017" / files[ann["image_id"]])
        x, y, w, h = ann["bbox"]
        people.append((images[ann["image_id"]], np.array([x, y, x + w, y + h], dtype=np.float64)))
        if len(people) >= limit:
            break
    return people
