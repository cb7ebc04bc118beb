"""Person detectors behind one interface: detect(images) -> per-image boxes and scores.

`build_detector(name)` chooses by name; each detector module is imported only when chosen. A name
ending in a weight-file suffix (`FILE_DETECTORS`: a YOLO-pose `.pt`) is that file, given by path or by
its name in the models folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posekit import registry
from posekit.choices import (
    DEFAULT_DETECTOR,
    DETECTORS,
    FILE_DETECTORS,
    canonical_detector_name,
    detector_names,
)
from posekit.detectors.base import Detector
from posekit.types import Detections

# The detector names (and which family each belongs to) are posekit.choices.DETECTORS; this registry
# says where each family's class lives: family -> (module, class).
DETECTOR_CLASSES: dict[str, registry.Entry] = {
    "blazepose": ("posekit.families.blazepose.detector", "BlazePoseDetector"),
    "yolov3": ("posekit.detectors.yolov3", "YOLOv3SPPDetector"),
    "yolox": ("posekit.detectors.yolox", "YOLOXDetector"),
    "yolo-pose": ("posekit.families.yolo_pose.detector", "YoloPoseDetector"),
}


def build_detector(
    name: str = DEFAULT_DETECTOR, weights: str | None = None, device: str = "cpu", **options: Any
) -> Detector:
    """Construct a detector by name or weight file; `weights` overrides where its weights are looked for."""
    key = canonical_detector_name(name)
    if key in DETECTORS:
        cls = registry.load(DETECTOR_CLASSES[DETECTORS[key]])
    else:
        family, weights = FILE_DETECTORS[Path(key).suffix.lower()], weights or key
        cls = registry.load(DETECTOR_CLASSES[family])
    return cls(name=key, weights=weights, device=device, **options)


__all__ = [
    "DEFAULT_DETECTOR",
    "DETECTORS",
    "DETECTOR_CLASSES",
    "FILE_DETECTORS",
    "Detections",
    "Detector",
    "build_detector",
    "canonical_detector_name",
    "detector_names",
]
