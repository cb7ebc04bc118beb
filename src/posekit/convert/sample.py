"""Synthetic Labelme files (drawn stick figures) to try the converter, test it and benchmark it."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from posekit.skeleton import KEYPOINT_NAMES, LIMBS

# A standing person facing the camera, x in [-0.5, 0.5] of its height, y from 0 (top) to 1 (feet).
_TEMPLATE = np.array(
    [
        [0.0, 0.08], [0.03, 0.06], [-0.03, 0.06], [0.06, 0.08], [-0.06, 0.08],
        [0.16, 0.22], [-0.16, 0.22], [0.22, 0.38], [-0.22, 0.38], [0.24, 0.52], [-0.24, 0.52],
        [0.10, 0.55], [-0.10, 0.55], [0.11, 0.75], [-0.11, 0.75], [0.11, 0.95], [-0.11, 0.95],
    ]
)  # fmt: skip


def sample_document(
    rng: np.random.Generator, image_name: str, width: int = 320, height: int = 240, max_people: int = 3
) -> tuple[dict[str, object], np.ndarray]:
    """One Labelme document (version 5 layout) and its BGR image with 1..max_people drawn figures.

    Some keypoints are left out and some carry the Labelme flag `occluded`.
    """
    image = np.full((height, width, 3), 235, np.uint8)
    shapes: list[dict[str, object]] = []
    for group_id in range(1, int(rng.integers(1, max_people + 1)) + 1):
        size = rng.uniform(0.5, 0.85) * height
        margin = 0.06 * size
        cx = rng.uniform(0.25 * size + margin, width - 0.25 * size - margin)
        top = rng.uniform(margin, height - size - margin)
        points = _TEMPLATE * size + [cx, top] + rng.normal(0, 0.01 * size, _TEMPLATE.shape)
        corners = np.array([[dx, dy] for dx in (-margin, margin) for dy in (-margin, margin)])
        outline = (points[None, :, :] + corners[:, None, :]).reshape(-1, 2)
        hull = cv2.convexHull(outline.astype(np.float32))[:, 0, :]
        hull = np.clip(hull, 0, [width - 1, height - 1]).round(2)
        color = tuple(int(c) for c in rng.integers(60, 200, 3))
        cv2.fillPoly(image, [hull.round().astype(np.int32)], tuple(c + 40 for c in color))
        for a, b in LIMBS:
            cv2.line(image, _px(points[a]), _px(points[b]), color, 2, cv2.LINE_AA)
        shapes.append(_shape("person", hull.tolist(), group_id, "polygon"))
        for index, name in enumerate(KEYPOINT_NAMES):
            draw = rng.random()
            if draw < 0.1:
                continue  # not labelled
            flags = {"occluded": True} if draw > 0.9 else {}
            shapes.append(_shape(name, [points[index].round(2).tolist()], group_id, "point", flags))
    document: dict[str, object] = {
        "version": "5.4.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": image_name,
        "imageData": None,
        "imageHeight": height,
        "imageWidth": width,
    }
    return document, image


def write_sample_labelme(
    folder: str | Path, count: int = 20, seed: int = 0, width: int = 320, height: int = 240
) -> list[Path]:
    """Write `count` Labelme json files with their images (every fourth a png) into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(1, count + 1):
        image_name = f"sample_{i:04d}" + (".png" if i % 4 == 0 else ".jpg")
        document, image = sample_document(rng, image_name, width, height)
        if not cv2.imwrite(str(folder / image_name), image):
            raise OSError(f"{folder / image_name}: could not write the sample image")
        path = folder / f"sample_{i:04d}.json"
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")
        paths.append(path)
    return paths


def _shape(
    label: str, points: list[list[float]], group_id: int, kind: str, flags: dict[str, bool] | None = None
) -> dict[str, object]:
    return {
        "label": label,
        "points": points,
        "group_id": group_id,
        "description": "",
        "shape_type": kind,
        "flags": flags or {},
        "mask": None,
    }


def _px(point: np.ndarray) -> tuple[int, int]:
    return int(np.rint(point[0])), int(np.rint(point[1]))
