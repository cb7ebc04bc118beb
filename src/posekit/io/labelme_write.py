"""Writing Labelme annotation files (the layout Labelme 5 saves and opens), atomically."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from posekit.io.atomic import atomic_write_json

LABELME_VERSION = "5.4.1"


def shape(
    label: str,
    points: Sequence[Sequence[float]],
    group_id: int | None,
    kind: str,
    description: str = "",
    flags: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One Labelme shape (`kind` is Labelme's shape_type: "polygon", "point", ...)."""
    return {
        "label": label,
        "points": [[float(x), float(y)] for x, y in points],
        "group_id": group_id,
        "description": description,
        "shape_type": kind,
        "flags": dict(flags or {}),
        "mask": None,
    }


def labelme_document(
    image_path: str, width: int, height: int, shapes: list[dict[str, Any]], image_data: bytes | None = None
) -> dict[str, Any]:
    """A Labelme file's content: imagePath relative to the json, the image size, the shapes and (when
    given) the image bytes embedded as base64 imageData."""
    return {
        "version": LABELME_VERSION,
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": base64.b64encode(image_data).decode("ascii") if image_data is not None else None,
        "imageHeight": int(height),
        "imageWidth": int(width),
    }


def write_labelme(path: str | Path, document: dict[str, Any]) -> None:
    """Write a Labelme document atomically (a killed run leaves the old file or the new one, whole)."""
    atomic_write_json(path, document, indent=2)
