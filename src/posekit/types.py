"""The data every layer passes: the people a detector found, the hints a tracker gives the pose model,
the poses a pose model returns and the people after pose estimation.

Nothing here imports anything of posekit's: every layer may import it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _rows(value: np.ndarray | None, index: np.ndarray | int) -> np.ndarray | None:
    """The rows `index` of an optional per-person array (None stays None)."""
    return None if value is None else np.asarray(value)[index]


@dataclass
class Detections:
    """People found in one image: boxes (N, 4) xyxy in image pixels and scores (N,).

    What a detector family knows beyond the box, each None when it does not tell, else N rows:
    rotations (N,) degrees clockwise that turn each person's body axis upright (the BlazePose
    detector's); keypoints (N, K, 2) image pixels and keypoint_scores (N, K), a pose found with the box
    (a one-stage detector's, or the BlazePose detector's landmark pass); alignment (N, 2, 2) the
    alignment points (mid-hip, scale point) of that landmark pass. second_opinion: whether a pose model
    may check those keypoints with passes of its own and keep the better (True: the BlazePose detector's
    pass, a first opinion of the default pose model; False: a one-stage detector's final keypoints,
    which another pose model ignores).
    """

    boxes: np.ndarray
    scores: np.ndarray
    rotations: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    keypoint_scores: np.ndarray | None = None
    alignment: np.ndarray | None = None
    second_opinion: bool = False

    @classmethod
    def empty(cls) -> Detections:
        """No detections."""
        return cls(np.zeros((0, 4), dtype=np.float32), np.zeros((0,), dtype=np.float32))

    @classmethod
    def from_boxes(cls, boxes: np.ndarray, scores: np.ndarray | None = None) -> Detections:
        """People given by their boxes alone (ground-truth boxes, a detection file); scores default to 1."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        return cls(boxes, np.ones(len(boxes)) if scores is None else np.asarray(scores).reshape(-1))

    def select(self, index: np.ndarray) -> Detections:
        """The detections at `index` (indices or a boolean mask), every per-person field included."""
        return Detections(
            self.boxes[index],
            self.scores[index],
            _rows(self.rotations, index),
            _rows(self.keypoints, index),
            _rows(self.keypoint_scores, index),
            _rows(self.alignment, index),
            self.second_opinion,
        )

    def __len__(self) -> int:
        return len(self.boxes)


@dataclass(frozen=True)
class PersonHint:
    """What a tracker knows of one person it follows into the frame (posekit.track.guided).

    box (4,) xyxy: the crop planned from the track's last pose; track_id: the track's id; alignment
    (2, 2): the alignment points of the track's last pose (the region a landmark model places its pass
    on, after the track's One-Euro filter), None when the pose model gives none; alignment_speed (2, 2):
    that filter's speed state in px/s (None: not known yet); frame_step: seconds since the track's last
    frame (None: one frame of the default rate).
    """

    box: np.ndarray
    track_id: int
    alignment: np.ndarray | None = None
    alignment_speed: np.ndarray | None = None
    frame_step: float | None = None


@dataclass
class Poses:
    """What a pose model returns for N people: keypoints (N, K, 2) image pixels, scores (N, K) and, for a
    model that places its passes on alignment points (the BlazePose landmarks), the alignment points
    (N, 2, 2) of the pass each pose came from (None for other models)."""

    keypoints: np.ndarray
    scores: np.ndarray
    alignment: np.ndarray | None = None


@dataclass
class PoseResult:
    """The people of one image after pose estimation (and NMS).

    boxes (N, 4) xyxy detection boxes; box_scores (N,); keypoints (N, K, 2) image pixels;
    keypoint_scores (N, K); scores (N,) person scores: after pose NMS AlphaPose's proposal score,
    mean(keypoint_scores) + box score + 1.25 * max(keypoint_scores), about 3 for a clearly seen
    person (3.25 when every score is 1); for a one-stage detector's people (no pose NMS) the box
    score, 0 to 1.
    ids: a track id (int) per person once a tracker ran, else empty (an untracked result).
    merged: per person the indices of the detections pose NMS merged into it (the one it kept
    included), [index] for a one-stage detector's person; empty when no NMS ran (e.g. a result read
    from a file). The results file's "idx" is the track id, else this list (AlphaPose's format).
    alignment (N, 2, 2) and alignment_speed (N, 2, 2): in a tracked run with guided crops, the pose
    model's alignment points of each pose (posekit.types.Poses) after the track's One-Euro filter, and
    that filter's speed (px/s); the trackers keep them for the next frame's hints. None otherwise.
    """

    boxes: np.ndarray
    box_scores: np.ndarray
    keypoints: np.ndarray
    keypoint_scores: np.ndarray
    scores: np.ndarray
    ids: list[int] = field(default_factory=list)
    merged: list[list[int]] = field(default_factory=list)
    alignment: np.ndarray | None = None
    alignment_speed: np.ndarray | None = None

    @classmethod
    def empty(cls, num_joints: int = 17) -> PoseResult:
        """An image with nobody in it."""
        return cls(
            boxes=np.zeros((0, 4)),
            box_scores=np.zeros((0,)),
            keypoints=np.zeros((0, num_joints, 2)),
            keypoint_scores=np.zeros((0, num_joints)),
            scores=np.zeros((0,)),
        )

    def select(self, index: np.ndarray) -> PoseResult:
        """The people at `index` (indices or a boolean mask), every per-person field included."""
        rows = np.arange(len(self))[index]
        return PoseResult(
            np.asarray(self.boxes).reshape(-1, 4)[rows],
            np.asarray(self.box_scores)[rows],
            np.asarray(self.keypoints)[rows],
            np.asarray(self.keypoint_scores)[rows],
            np.asarray(self.scores)[rows],
            [self.ids[i] for i in rows] if self.ids else [],
            [self.merged[i] for i in rows] if self.merged else [],
            _rows(self.alignment, rows),
            _rows(self.alignment_speed, rows),
        )

    def __len__(self) -> int:
        return len(self.boxes)
