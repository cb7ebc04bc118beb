"""One-Euro smoothing of tracked keypoints (posekit.one_euro), with no added delay.

Each coordinate of each keypoint of each track is its own One-Euro filter, all of a track's run at once
with numpy. The first frame of a track passes unchanged, and the output at frame t uses frames <= t only.
The filter's `scale` is the person's size in pixels (mean of the keypoint box's width and height, as
MediaPipe's landmark smoothing does).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from posekit.errors import PosekitError
from posekit.one_euro import FrameClock, OneEuroFilter, OneEuroParams
from posekit.types import PoseResult


def person_scale(keypoints: np.ndarray, scores: np.ndarray, kp_thresh: float = 0.3) -> float:
    """Size of one person in pixels: mean of the width and height of its confident keypoints' box."""
    use = scores >= kp_thresh
    pts = keypoints[use] if use.sum() >= 2 else keypoints
    extent = pts.max(axis=0) - pts.min(axis=0)
    return float(max(extent.mean(), 1.0))


class TrackSmoother:
    """One-Euro smoothing of each track's keypoints in tracked PoseResults (ids are track ids).

    State lives per track id and is dropped as soon as a frame comes without that id (the track ended or
    was lost), so an id that comes back later starts afresh. Timestamps are seconds, read by a FrameClock
    (without them frame n is at n / fps).
    """

    def __init__(self, params: OneEuroParams | None = None, fps: float | None = None) -> None:
        self.params = params or OneEuroParams()
        self.clock = FrameClock(fps)
        self.filters: dict[int, OneEuroFilter] = {}

    def __call__(self, result: PoseResult, timestamp: float | None = None) -> PoseResult:
        """The result with every person's keypoints smoothed along their track; a timestamp that does
        not increase (or None) is taken as the previous one plus 1 / fps."""
        t, _ = self.clock.tick(timestamp)
        ids = [int(i) for i in result.ids]
        if len(ids) != len(result):
            raise PosekitError("smoothing needs tracked results (one track id per person)")
        keypoints = np.array(result.keypoints, dtype=np.float64, copy=True)
        scores = np.asarray(result.keypoint_scores, dtype=np.float64)
        for n, tid in enumerate(ids):
            f = self.filters.setdefault(tid, OneEuroFilter(self.params))
            keypoints[n] = f(keypoints[n], t, person_scale(keypoints[n], scores[n]))
        self.filters = {tid: f for tid, f in self.filters.items() if tid in set(ids)}
        return dataclasses.replace(result, keypoints=keypoints)
