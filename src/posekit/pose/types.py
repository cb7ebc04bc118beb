"""The pose-model interfaces: a heatmap backend and a top-down pose model."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class HeatmapBackend(Protocol):
    """Runs a heatmap network: float32 NCHW normalised crops -> float32 heatmaps (N, K, h, w)."""

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


class PoseModel(Protocol):
    """A top-down pose model over person boxes of one RGB image.

    detection_extras: the names of the `Detections.extras` it takes as keyword arguments of `estimate`
    (each (N, ...) aligned with the boxes), when the detector provides them.
    pose_nms: whether pose NMS runs on its output (False when its people are already final, as a
    one-stage detector's keypoints after the detector's own NMS).
    track_extras: the names of the per-pose extras `estimate_tracked` returns for a tracker to keep
    (PoseResult.extras); a model with none need not define estimate_tracked.
    """

    num_joints: int
    detection_extras: tuple[str, ...]
    pose_nms: bool
    track_extras: tuple[str, ...]

    def estimate(
        self, image: np.ndarray, boxes: np.ndarray, **extras: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """RGB uint8 image and (N, 4) xyxy boxes -> keypoints (N, K, 2) in image pixels, scores (N, K)."""
        ...

    def estimate_tracked(
        self, image: np.ndarray, boxes: np.ndarray, **extras: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        """estimate(), plus the track_extras of each pose ({name: (N, ...)})."""
        ...
