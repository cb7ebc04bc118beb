"""The data every layer passes: the people a detector found, and the people after pose estimation.

Nothing here imports anything of posekit's: every layer may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


def extras_rows(extras: dict[str, np.ndarray] | None, index) -> dict[str, np.ndarray]:
    """The rows `index` (indices, a boolean mask or one integer) of every per-person extra."""
    return {name: np.asarray(value)[index] for name, value in (extras or {}).items()}


@dataclass
class Detections:
    """People found in one image: boxes (N, 4) xyxy in image pixels and scores (N,).

    extras: what a detector family knows beyond the box, one array per name with N rows (the BlazePose
    detector's "rotations", a one-stage detector's "keypoints" and "keypoint_scores"); a pose model names
    the extras it uses in its `detection_extras`.
    """

    boxes: np.ndarray
    scores: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(np.zeros((0, 4), dtype=np.float32), np.zeros((0,), dtype=np.float32))

    def select(self, index: np.ndarray) -> Detections:
        """The detections at `index` (indices or a boolean mask), extras included."""
        return Detections(self.boxes[index], self.scores[index], extras_rows(self.extras, index))

    def __len__(self) -> int:
        return len(self.boxes)


@dataclass
class PoseResult:
    """The people of one image after pose estimation (and NMS).

    boxes (N, 4) xyxy detection boxes; box_scores (N,); keypoints (N, K, 2) image pixels;
    keypoint_scores (N, K); scores (N,) person scores: after pose NMS AlphaPose's proposal score,
    mean(keypoint_scores) + box score + 1.25 * max(keypoint_scores), about 3 for a clearly seen
    person (3.25 when every score is 1); for a one-stage detector's people (no pose NMS) the box
    score, 0 to 1; ids: per person a track id (int) or the list of merged detection indices; extras:
    what the pose model knows beyond the keypoints, one array per name with N rows (the default
    model's "alignment": the region its next frame's crop is placed on when the person is tracked),
    carried by the trackers into their track state.
    """

    boxes: np.ndarray
    box_scores: np.ndarray
    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    scores: np.ndarray
    ids: list[Any] = field(default_factory=list)
    extras: dict[str, np.ndarray] = field(default_factory=dict)

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

    def select(self, index: np.ndarray) -> PoseResult:
        """The people at `index` (indices or a boolean mask), ids and extras included."""
        rows = np.arange(len(self))[index]
        return PoseResult(
            np.asarray(self.boxes).reshape(-1, 4)[rows],
            np.asarray(self.box_scores)[rows],
            np.asarray(self.keypoints)[rows],
            np.asarray(self.keypoint_scores)[rows],
            np.asarray(self.scores)[rows],
            [self.ids[i] for i in rows] if self.ids else [],
            extras_rows(self.extras, rows),
        )

    def __len__(self) -> int:
        return len(self.boxes)
