"""What a tracker tells about the people it follows right now: their last pose, box and motion."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class LiveTrack:
    """A track seen in the tracker's latest frame.

    box (4,) xyxy pixels, keypoints (K, 2) pixels and keypoint scores (K,) of its last pose, velocity
    (2,) the motion of its box centre in pixels per frame between its last two boxes; alignment (2, 2)
    and alignment_speed (2, 2) those of its last pose (PoseResult.alignment, alignment_speed), None when
    the result had none.
    """

    tid: int
    box: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    velocity: np.ndarray
    alignment: np.ndarray | None = None
    alignment_speed: np.ndarray | None = None
