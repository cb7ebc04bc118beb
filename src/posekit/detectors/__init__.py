"""Person detectors behind one interface: detect(images) -> per-image boxes and scores.

`build_detector(name)` chooses by name; each detector module is imported only when chosen. A name
ending in a weight-file suffix (`FILE_DETECTORS`: a YOLO-pose `.pt`) is that file, given by path or by
its name in the models folder.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from posekit.detectors.base import Detector
from posekit.errors import PosekitError
from posekit.types import Detections

# name -> (module, class). Each class is constructed as cls(name=..., weights=..., device=..., **options).
DETECTORS: dict[str, tuple[str, str]] = {
    "blazepose": ("posekit.detectors.blazepose", "BlazePoseDetector"),
    "yolo": ("posekit.detectors.yolov3", "YOLOv3SPPDetector"),
    "yolox-nano": ("posekit.detectors.yolox", "YOLOXDetector"),
    "yolox-tiny": ("posekit.detectors.yolox", "YOLOXDetector"),
    "yolox-s": ("posekit.detectors.yolox", "YOLOXDetector"),
    "yolox-m": ("posekit.detectors.yolox", "YOLOXDetector"),
    "yolox-l": ("posekit.detectors.yolox", "YOLOXDetector"),
    "yolox-x": ("posekit.detectors.yolox", "YOLOXDetector"),
    "yolo11n-pose": ("posekit.families.yolo_pose.detector", "YoloPoseDetector"),
}
# weight-file suffix -> (module, class) of the detector that reads such files (constructed with the
# file name as its name and, unless given, as its weights)
FILE_DETECTORS: dict[str, tuple[str, str]] = {
    ".pt": ("posekit.families.yolo_pose.detector", "YoloPoseDetector")
}
ALIASES = {"yolox": "yolox-x", "yolov3": "yolo", "yolov3-spp": "yolo", "default": "blazepose"}
DEFAULT_DETECTOR = "blazepose"


def detector_names() -> list[str]:
    """Every name `--detector` accepts."""
    return sorted([*DETECTORS, *ALIASES])


def canonical_detector_name(name: str) -> str:
    """Resolve aliases ("yolox" -> "yolox-x"); a weight file name stays as given; raises PosekitError
    for an unknown name."""
    if Path(name).suffix.lower() in FILE_DETECTORS:
        return name
    key = ALIASES.get(name.lower(), name.lower())
    if key not in DETECTORS:
        raise PosekitError(f"unknown detector {name!r}; choose one of: {', '.join(detector_names())}")
    return key


def build_detector(
    name: str = DEFAULT_DETECTOR, weights: str | None = None, device: str = "cpu", **options: Any
) -> Detector:
    """Construct a detector by name or weight file; `weights` overrides where its weights are looked for."""
    key = canonical_detector_name(name)
    if key not in DETECTORS:
        module_name, class_name = FILE_DETECTORS[Path(key).suffix.lower()]
        weights = weights or key
    else:
        module_name, class_name = DETECTORS[key]
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls(name=key, weights=weights, device=device, **options)


__all__ = [
    "DEFAULT_DETECTOR",
    "Detections",
    "Detector",
    "build_detector",
    "canonical_detector_name",
    "detector_names",
]
