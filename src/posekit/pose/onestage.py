"""The pose model of a one-stage detector: the keypoints the detector already found, passed through."""

from __future__ import annotations

import numpy as np

from posekit.errors import PosekitError


class DetectorKeypoints:
    """Takes each detection's own keypoints (`extras["keypoints"]`, `extras["keypoint_scores"]`).

    Used when a keypoint detector (YOLO-pose) runs without a separate pose model. Its people are final
    (the detector's NMS ran), so the pipeline applies no pose NMS to them (`pose_nms` False).
    """

    detection_extras = ("keypoints", "keypoint_scores")
    pose_nms = False
    track_extras: tuple[str, ...] = ()

    def __init__(self, num_joints: int) -> None:
        self.num_joints = num_joints

    def estimate(
        self,
        image: np.ndarray,
        boxes: np.ndarray,
        keypoints: np.ndarray | None = None,
        keypoint_scores: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The detections' keypoints (N, K, 2) and scores (N, K) as they are."""
        if keypoints is None or keypoint_scores is None:
            raise PosekitError(
                "the detector gives no keypoints: use a keypoint detector (e.g. --detector yolo11n-pose) "
                "or give a pose model (--cfg/--checkpoint)"
            )
        return np.asarray(keypoints, dtype=np.float64), np.asarray(keypoint_scores, dtype=np.float64)
