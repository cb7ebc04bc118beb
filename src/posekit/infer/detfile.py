"""Detections read from a COCO-style json instead of running a detector (`--detfile`)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from posekit.errors import PosekitError
from posekit.types import Detections


class DetectionFile:
    """Person boxes per image from a list of {image_id, category_id, bbox [x, y, w, h], score}.

    An image matches by its file name, its stem, or its stem's integer value ("000000000785.jpg" -> 785).
    """

    name = "detfile"

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not path.is_file():
            raise PosekitError(f"{path}: detection file not found")
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PosekitError(f"{path}: not a JSON detection file ({exc})") from exc
        if not isinstance(entries, list):
            raise PosekitError(f"{path}: expected a JSON list of {{image_id, bbox, score}} entries")
        grouped: dict[str, list[tuple[list[float], float]]] = defaultdict(list)
        for n, entry in enumerate(entries):
            try:
                if int(entry.get("category_id", 1)) != 1:
                    continue
                x, y, w, h = (float(v) for v in entry["bbox"][:4])
                grouped[str(entry["image_id"])].append(([x, y, x + w, y + h], float(entry.get("score", 1.0))))
            except (KeyError, TypeError, ValueError) as exc:
                raise PosekitError(f"{path}: entry {n} is not {{image_id, bbox [x,y,w,h], score}}") from exc
        self._by_image = {
            key: Detections(
                np.array([b for b, _ in dets], dtype=np.float32).reshape(-1, 4),
                np.array([s for _, s in dets], dtype=np.float32),
            )
            for key, dets in grouped.items()
        }

    def __len__(self) -> int:
        return len(self._by_image)

    def lookup(self, image_name: str) -> Detections:
        """Detections of one image (empty if the file lists none for it)."""
        stem = Path(image_name).stem
        keys = [image_name, stem] + ([str(int(stem))] if stem.isdigit() else [])
        for key in keys:
            if key in self._by_image:
                return self._by_image[key]
        return Detections.empty()
