"""A real person crop to check an exported model against PyTorch (and to calibrate int8 models).

Order of preference: a user image (whole image as the box), the COCO val mini set that sits beside a
development checkout (its annotated people), else the astronaut in scikit-image's sample photo.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

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


# The astronaut in scikit-image's sample photo (512 x 512), xyxy: head to the bottom edge, both arms.
ASTRONAUT_BOX = (20.0, 10.0, 370.0, 511.0)


def astronaut_person() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's astronaut photo (it ships inside its wheel) and the box of the person in it."""
    from posekit.infer.sources import sample_image_path

    return read_image_rgb(sample_image_path()), np.array(ASTRONAUT_BOX, dtype=np.float64)


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
        sources = coco_mini_people(count) or [astronaut_person()]
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
    return f"{root} (annotated people)" if root else "scikit-image's astronaut photo"
