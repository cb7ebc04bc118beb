"""Building and writing COCO person-keypoint json documents (the layout training and evaluation read)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from posekit.io.atomic import atomic_write_text
from posekit.skeleton import COCO_SKELETON_1BASED, KEYPOINT_NAMES

SPLITS = ("train", "val")
PERSON_CATEGORY_ID = 1


def image_folder(split: str) -> str:
    """Folder name of a split's images: 'train2017' or 'val2017'."""
    return f"{split}2017"


def annotation_path(coco_root: str | Path, split: str) -> Path:
    """<coco_root>/annotations/person_keypoints_<split>2017.json."""
    return Path(coco_root) / "annotations" / f"person_keypoints_{image_folder(split)}.json"


def person_category() -> dict[str, Any]:
    """The COCO person category with the 17 keypoint names and COCO's 1-based skeleton."""
    return {
        "supercategory": "person",
        "id": PERSON_CATEGORY_ID,
        "name": "person",
        "keypoints": list(KEYPOINT_NAMES),
        "skeleton": [list(limb) for limb in COCO_SKELETON_1BASED],
    }


def image_entry(image_id: int, file_name: str, width: int, height: int, split: str) -> dict[str, Any]:
    """A COCO image; `coco_url` './<split>2017/<file>' is what AlphaPose-style loaders open."""
    return {
        "id": image_id,
        "file_name": file_name,
        "width": width,
        "height": height,
        "coco_url": f"./{image_folder(split)}/{file_name}",
    }


def polygon_area(flat: Sequence[float]) -> float:
    """Area of a polygon [x1, y1, x2, y2, ...] by the shoelace formula (orientation-free)."""
    xs, ys = flat[0::2], flat[1::2]
    n = len(xs)
    twice = sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i] for i in range(n))
    return abs(twice) / 2.0


def polygons_bbox(polygons: Sequence[Sequence[float]]) -> list[float]:
    """Tight [x, y, w, h] around all polygons (w, h rounded to 1e-6 to drop float subtraction noise)."""
    xs = [x for poly in polygons for x in poly[0::2]]
    ys = [y for poly in polygons for y in poly[1::2]]
    x0, y0 = min(xs), min(ys)
    return [x0, y0, round(max(xs) - x0, 6), round(max(ys) - y0, 6)]


def person_annotation(
    ann_id: int,
    image_id: int,
    polygons: Sequence[Sequence[float]],
    keypoints: Sequence[Sequence[float]],
) -> dict[str, Any]:
    """A COCO person annotation: bbox, segmentation and area from its own polygons; keypoints [x, y, v]*17.

    `num_keypoints` counts keypoints with v > 0.
    """
    flat_keypoints = [value for point in keypoints for value in point]
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": PERSON_CATEGORY_ID,
        "iscrowd": 0,
        "segmentation": [list(poly) for poly in polygons],
        "area": round(sum(polygon_area(poly) for poly in polygons), 6),
        "bbox": polygons_bbox(polygons),
        "num_keypoints": sum(1 for point in keypoints if point[2] > 0),
        "keypoints": flat_keypoints,
    }


def coco_document(images: list[dict[str, Any]], annotations: list[dict[str, Any]]) -> dict[str, Any]:
    """A complete person-keypoints document (info, licenses, categories, images, annotations)."""
    return {
        "info": {"description": "COCO-17 person keypoints converted by posekit", "version": "1.0"},
        "licenses": [],
        "categories": [person_category()],
        "images": images,
        "annotations": annotations,
    }


def write_coco(path: str | Path, document: dict[str, Any]) -> None:
    """Write a COCO document atomically as compact UTF-8 json."""
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, separators=(",", ":")))
