"""Person detectors behind one interface: detect(images) -> per-image boxes and scores.

`build_detector(name)` chooses by name; each detector module is imported only when chosen.
"""

from __future__ import annotations

from typing import Any

from posekit import registry
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
}
ALIASES = {"yolox": "yolox-x", "yolov3": "yolo", "yolov3-spp": "yolo", "default": "blazepose"}
DEFAULT_DETECTOR = "blazepose"


def detector_names() -> list[str]:
    """Every name `--detector` accepts."""
    return sorted([*DETECTORS, *ALIASES])


def canonical_detector_name(name: str) -> str:
    """Resolve aliases ("yolox" -> "yolox-x"); raises PosekitError for an unknown name."""
    key = ALIASES.get(name.lower(), name.lower())
    if key not in DETECTORS:
        raise PosekitError(f"unknown detector {name!r}; choose one of: {', '.join(detector_names())}")
    return key


def build_detector(
    name: str = DEFAULT_DETECTOR, weights: str | None = None, device: str = "cpu", **options: Any
) -> Detector:
    """Construct a detector by name; `weights` overrides where its weight file is looked for."""
    key = canonical_detector_name(name)
    cls = registry.load(DETECTORS[key])
    return cls(name=key, weights=weights, device=device, **options)


__all__ = [
    "DEFAULT_DETECTOR",
    "Detections",
    "Detector",
    "build_detector",
    "canonical_detector_name",
    "detector_names",
]
