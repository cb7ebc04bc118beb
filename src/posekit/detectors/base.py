"""The detector interface every person detector implements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass
class Detections:
    """People found in one image: boxes (N, 4) xyxy in image pixels and scores (N,)."""

    boxes: np.ndarray
    scores: np.ndarray

    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(np.zeros((0, 4), dtype=np.float32), np.zeros((0,), dtype=np.float32))

    def __len__(self) -> int:
        return len(self.boxes)


class Detector(Protocol):
    """A person detector: RGB uint8 images in, one Detections per image out."""

    name: str

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detect people in a batch of RGB uint8 images (H, W, 3)."""
        ...
