"""The pose model of a one-stage detector: the keypoints the detector already found, passed through."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from posekit.errors import PosekitError
from posekit.types import Detections, PersonHint, Poses


class DetectorKeypoints:
    """Takes each detection's own keypoints (`Detections.keypoints`, `Detections.keypoint_scores`).

    Used when a keypoint detector (YOLO-pose) runs without a separate pose model. Its people are final
    (the detector's NMS ran), so the pipeline applies no pose NMS to them (`pose_nms` False).
    """

    pose_nms = False

    def __init__(self, num_joints: int) -> None:
        self.num_joints = num_joints

    def estimate(
        self, image: np.ndarray, people: Detections, hints: Sequence[PersonHint | None] | None = None
    ) -> Poses:
        """The detections' keypoints (N, K, 2) and scores (N, K) as they are (hints are not used)."""
        if people.keypoints is None or people.keypoint_scores is None:
            raise PosekitError(
                "the detector gives no keypoints: use a keypoint detector (e.g. --detector yolo11n-pose) "
                "or give a pose model (--cfg/--checkpoint)"
            )
        keypoints = np.asarray(people.keypoints, dtype=np.float64)
        return Poses(keypoints, np.asarray(people.keypoint_scores, dtype=np.float64))
