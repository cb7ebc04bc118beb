"""The pose-model interfaces: a heatmap backend and a top-down pose model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from posekit.types import Detections, PersonHint, Poses


class HeatmapBackend(Protocol):
    """Runs a heatmap network: float32 NCHW normalised crops -> float32 heatmaps (N, K, h, w)."""

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


class PoseModel(Protocol):
    """A top-down pose model over the people of one RGB image.

    num_joints: K of its keypoint set. pose_nms: whether pose NMS runs on its output (False when its
    people are already final, as a one-stage detector's keypoints after the detector's own NMS).
    """

    num_joints: int
    pose_nms: bool

    def estimate(
        self, image: np.ndarray, people: Detections, hints: Sequence[PersonHint | None] | None = None
    ) -> Poses:
        """RGB uint8 image and the people's detections -> their poses (Poses: keypoints (N, K, 2) image
        pixels, scores (N, K), and the alignment points of models that have them). hints: per person,
        None for a detected one, the tracker's PersonHint for one followed into this frame (a model may
        place its crop by it); None: nobody is followed."""
        ...
