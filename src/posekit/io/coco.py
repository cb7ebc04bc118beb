"""COCO person-keypoint json documents: building and writing them (the layout training and evaluation
read), and reading their usable people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from posekit.errors import PosekitError
from posekit.io.atomic import atomic_write_text
from posekit.io.jsonio import read_json
from posekit.skeleton import COCO_17, COCO_SKELETON_1BASED, KEYPOINT_NAMES, KeypointSet

SPLITS = ("train", "val")
PERSON_CATEGORY_ID = 1


def image_folder(split: str) -> str:
    """Folder name of a split's images: 'train2017' or 'val2017'."""
    return f"{split}2017"


def annotation_path(coco_root: str | Path, split: str) -> Path:
    """<coco_root>/annotations/person_keypoints_<split>2017.json."""
    return Path(coco_root) / "annotations" / f"person_keypoints_{image_folder(split)}.json"


def person_category(keypoints: KeypointSet = COCO_17) -> dict[str, Any]:
    """The COCO person category with a keypoint set's names and 1-based skeleton (COCO's for COCO-17)."""
    skeleton = COCO_SKELETON_1BASED if keypoints is COCO_17 else keypoints.coco_skeleton
    return {
        "supercategory": "person",
        "id": PERSON_CATEGORY_ID,
        "name": "person",
        "keypoints": list(keypoints.names),
        "skeleton": [list(limb) for limb in skeleton],
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
    """A COCO person annotation: bbox, segmentation and area from its own polygons; keypoints [x, y, v]*K.

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


def coco_document(
    images: list[dict[str, Any]], annotations: list[dict[str, Any]], keypoints: KeypointSet = COCO_17
) -> dict[str, Any]:
    """A complete person-keypoints document (info, licenses, categories, images, annotations)."""
    title = "COCO-17" if keypoints is COCO_17 else f"{keypoints.name} ({keypoints.num_joints} points)"
    return {
        "info": {"description": f"{title} person keypoints converted by posekit", "version": "1.0"},
        "licenses": [],
        "categories": [person_category(keypoints)],
        "images": images,
        "annotations": annotations,
    }


def write_coco(path: str | Path, document: dict[str, Any]) -> None:
    """Write a COCO document atomically as compact UTF-8 json."""
    atomic_write_text(path, json.dumps(document, ensure_ascii=False, separators=(",", ":")))


class CocoSplit(Protocol):
    """Where a split's files are (what config.DatasetSplit gives): root folder, annotation json, images."""

    root: str

    @property
    def ann_path(self) -> Path: ...

    @property
    def image_dir(self) -> Path: ...


@dataclass(frozen=True)
class PersonSample:
    """One annotated person: image file, clipped xyxy box, joints (K, 2), visibility (K,)."""

    image_path: Path
    image_id: int
    box: tuple[float, float, float, float]
    joints: np.ndarray
    visible: np.ndarray


def read_coco_people(split: CocoSplit, num_joints: int) -> tuple[list[PersonSample], list[str]]:
    """Usable people of a COCO keypoints json (AlphaPose's skip rules) and the keypoint names."""
    ann_path = split.ann_path
    data = read_json(ann_path, "annotation file")
    names = _keypoint_names(data, num_joints, ann_path)
    images = {img["id"]: img for img in data.get("images", [])}
    people = []
    for ann in data.get("annotations", []):
        image = images.get(ann.get("image_id"))
        if image is None or ann.get("iscrowd", 0) or ann.get("num_keypoints", 1) == 0:
            continue
        kps = np.asarray(ann.get("keypoints", []), dtype=np.float64).reshape(-1, 3)
        if len(kps) != num_joints:
            raise PosekitError(
                f"{ann_path}: annotation {ann.get('id')} has {len(kps)} keypoints, config says {num_joints}"
            )
        if kps.max(initial=0) <= 0 or ann.get("area", 1) <= 0 or not (kps[:, 2] > 0).any():
            continue
        box = _clip_box(ann.get("bbox", [0, 0, 0, 0]), image["width"], image["height"])
        if box is None:
            continue
        visible = np.minimum(1, kps[:, 2]).astype(np.float32)
        people.append(
            PersonSample(_image_path(split, image), int(image["id"]), box, kps[:, :2].copy(), visible)
        )
    return people, names


def _keypoint_names(data: dict, num_joints: int, path: Path) -> list[str]:
    for category in data.get("categories", []):
        names = category.get("keypoints") or category.get("keypoint")
        if names:
            if len(names) != num_joints:
                raise PosekitError(
                    f"{path}: category has {len(names)} keypoints, config says NUM_JOINTS {num_joints}"
                )
            return list(names)
    return (
        list(KEYPOINT_NAMES)
        if num_joints == len(KEYPOINT_NAMES)
        else [f"joint_{i}" for i in range(num_joints)]
    )


def _image_path(split: CocoSplit, image: dict) -> Path:
    """Image file from file_name under the split's image folder, else from coco_url under ROOT."""
    if image.get("file_name"):
        path = split.image_dir / image["file_name"]
        if path.is_file() or not image.get("coco_url"):
            return path
    parts = str(image.get("coco_url", "")).replace("\\", "/").split("/")[-2:]
    return Path(split.root, *parts)


def _clip_box(bbox: list[float], width: int, height: int) -> tuple[float, float, float, float] | None:
    x, y, w, h = (float(v) for v in bbox)
    x1, y1 = min(max(0.0, x), width - 1), min(max(0.0, y), height - 1)
    x2 = min(max(0.0, x + max(w - 1, 0)), width - 1)
    y2 = min(max(0.0, y + max(h - 1, 0)), height - 1)
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None
