"""Detections read from a COCO-style json instead of running a detector (`--detfile`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posekit.errors import PosekitError
from posekit.io.detections import read_detections
from posekit.types import Detections


class DetectionFile:
    """Person boxes per image from a detection file (posekit.io.detections), looked up by image name:
    a detector (posekit.detectors.base.NamedDetector) that the run gives each frame's name.

    An image matches by its file name, its stem, or its stem's integer value ("000000000785.jpg" -> 785).
    """

    name = "detfile"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        grouped: dict[str, list[Detections]] = {}
        for image_id, dets in read_detections(path).items():
            grouped.setdefault(str(image_id), []).append(dets)
        self._by_image = {
            key: Detections(
                np.concatenate([d.boxes for d in dets]).astype(np.float32),
                np.concatenate([d.scores for d in dets]).astype(np.float32),
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

    def detect_named(self, names: Sequence[str], images: Sequence[np.ndarray]) -> list[Detections]:
        """The file's detections of each named image (the pixels are not looked at)."""
        return [self.lookup(name) for name in names]

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Refused: the file's boxes are found by image name (detect_named)."""
        raise PosekitError(f"{self.path}: a detection file finds boxes by image name, not by pixels")
