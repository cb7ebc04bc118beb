"""What a tracker tells about the people it follows right now: their last pose, box and motion."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class LiveTrack:
    """A track seen in the tracker's latest frame.

    box (4,) xyxy pixels, keypoints (K, 2) pixels and keypoint scores (K,) of its last pose, velocity
    (2,) the motion of its box centre in pixels per frame between its last two boxes, and extras the pose
    model's extras of its last pose (PoseResult.extras, one row).
    """

    tid: int
    box: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    velocity: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)
