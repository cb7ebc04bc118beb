"""A real person crop to check an exported model against PyTorch (and to calibrate int8 models).

Order of preference: a user image (whole image as the box), the COCO val mini set that sits beside a
development checkout (its annotated people), else a deterministic synthetic stick figure.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np

from posekit.geometry import crop_person
from posekit.io.images import read_image_rgb

_REPO_ROOT = Path(__file__).resolve().parents[3]


def coco_mini_root() -> Path | None:
    """coco-val-mini beside a development checkout (or under $POSEKIT_SHARED_DATA), else None."""
    env = os.environ.get("POSEKIT_SHARED_DATA")
    roots = [Path(env)] if env else []
    roots += [_REPO_ROOT.parent / "shared" / "data"]
    for root in roots:
        candidate = root / "coco-val-mini"
        if (candidate / "annotations" / "person_keypoints_val2017.json").is_file():
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


def synthetic_person(size: tuple[int, int] = (480, 360)) -> np.ndarray:
    """A deterministic RGB image of a stick figure on a textured background."""
    height, width = size
    rng = np.random.default_rng(0)
    image = rng.integers(60, 120, size=(height, width, 3), dtype=np.uint8)
    cx, top = width // 2, height // 8
    color = (230, 180, 140)
    cv2.circle(image, (cx, top + 30), 28, color, -1)
    joints = {
        "neck": (cx, top + 65),
        "hip": (cx, top + 200),
        "lhand": (cx - 90, top + 150),
        "rhand": (cx + 90, top + 150),
        "lfoot": (cx - 60, height - 30),
        "rfoot": (cx + 60, height - 30),
    }
    for a, b in [("neck", "hip"), ("neck", "lhand"), ("neck", "rhand"), ("hip", "lfoot"), ("hip", "rfoot")]:
        cv2.line(image, joints[a], joints[b], color, 14)
    return image


def sample_crops_and_boxes(
    input_hw: tuple[int, int], count: int = 1, image_path: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 RGB crops (count, H, W, 3) of real people where available, and their crop boxes (count, 4).

    With fewer people than `count`, mirrored copies fill the rest (their boxes repeat).
    """
    if image_path is not None:
        image = read_image_rgb(image_path)
        sources = [(image, np.array([0, 0, image.shape[1], image.shape[0]], dtype=np.float64))]
    else:
        sources = coco_mini_people(count)
        if not sources:
            image = synthetic_person()
            sources = [(image, np.array([90, 10, 270, 470], dtype=np.float64))]
    pairs = [crop_person(image, box, input_hw) for image, box in sources]
    crops = [crop for crop, _ in pairs]
    boxes = [box for _, box in pairs]
    while len(crops) < count:
        crops.append(np.ascontiguousarray(crops[len(crops) % len(pairs)][:, ::-1]))
        boxes.append(boxes[len(boxes) % len(pairs)])
    return np.stack(crops[:count]), np.stack(boxes[:count])


def sample_crops(
    input_hw: tuple[int, int], count: int = 1, image_path: str | Path | None = None
) -> np.ndarray:
    """uint8 RGB crops (count, H, W, 3) of real people where available (see the module doc)."""
    return sample_crops_and_boxes(input_hw, count, image_path)[0]


def describe_source(image_path: str | Path | None = None) -> str:
    """Where sample_crops takes its people from, for messages."""
    if image_path is not None:
        return str(image_path)
    root = coco_mini_root()
    return f"{root} (annotated people)" if root else "a synthetic stick figure"
