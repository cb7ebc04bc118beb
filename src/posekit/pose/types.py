"""Data passed between pose stages: the people of one image, and the pose-model interfaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass
class PoseResult:
    """The people of one image after pose estimation (and NMS).

    boxes (N, 4) xyxy detection boxes; box_scores (N,); keypoints (N, K, 2) image pixels;
    keypoint_scores (N, K); scores (N,) person (proposal) scores; ids: per person a track id (int)
    or the list of merged detection indices.
    """

    boxes: np.ndarray
    box_scores: np.ndarray
    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    scores: np.ndarray
    ids: list[Any] = field(default_factory=list)

    @classmethod
    def empty(cls, num_joints: int = 17) -> PoseResult:
        """An image with nobody in it."""
        return cls(
            boxes=np.zeros((0, 4)),
            box_scores=np.zeros((0,)),
            keypoints=np.zeros((0, num_joints, 2)),
            keypoint_scores=np.zeros((0, num_joints)),
            scores=np.zeros((0,)),
            ids=[],
        )

    def __len__(self) -> int:
        return len(self.boxes)


class HeatmapBackend(Protocol):
    """Runs a heatmap network: float32 NCHW normalised crops -> float32 heatmaps (N, K, h, w)."""

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


class PoseModel(Protocol):
    """A top-down pose model over person boxes of one RGB image."""

    num_joints: int

    def estimate(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """RGB uint8 image and (N, 4) xyxy boxes -> keypoints (N, K, 2) in image pixels, scores (N, K)."""
        ...
