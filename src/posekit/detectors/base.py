"""The detector interface every person detector implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from posekit.types import Detections


class Detector(Protocol):
    """A person detector: RGB uint8 images in, one Detections per image out."""

    name: str

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detect people in a batch of RGB uint8 images (H, W, 3)."""
        ...


@runtime_checkable
class KeypointDetector(Detector, Protocol):
    """A detector that also finds each person's keypoints (one-stage, e.g. YOLO-pose): its Detections
    carry keypoints (N, K, 2) and keypoint_scores (N, K), final (second_opinion False)."""

    num_joints: int


@runtime_checkable
class ThoroughDetector(Detector, Protocol):
    """A detector with a slower scan that finds more people (e.g. finer tiles). A tracked video, which
    runs the detector only every det_interval frames and follows the people found in between, uses it
    on those frames: the frames it skips pay for it."""

    def detect_thorough(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """detect(), scanning harder."""
        ...


@runtime_checkable
class NamedDetector(Detector, Protocol):
    """A detector whose people depend on which image it is given, not only on its pixels (boxes read
    from a detection file): the run calls detect_named with each frame's name."""

    def detect_named(self, names: Sequence[str], images: Sequence[np.ndarray]) -> list[Detections]:
        """One Detections per (name, image)."""
        ...
