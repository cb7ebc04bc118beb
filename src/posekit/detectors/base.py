"""The detector interface every person detector implements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from posekit.types import Detections


class Detector(Protocol):
    """A person detector: RGB uint8 images in, one Detections per image out."""

    name: str

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detect people in a batch of RGB uint8 images (H, W, 3)."""
        ...
