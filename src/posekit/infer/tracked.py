"""The pose step of a run, frame after frame: crops -> pose model -> pose NMS -> track ids -> smoothing.

With `det_interval` > 1 (video, webcam, tracked image sequences) the detector runs only on some frames
(posekit.track.schedule) and every other person's crop comes from their tracked pose
(posekit.track.guided); with det_interval 1 each frame is detected from scratch, as always.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from posekit.choices import DEFAULT_DET_INTERVAL
from posekit.errors import PosekitError
from posekit.one_euro import FrameClock, OneEuroParams
from posekit.pose.nms import detected_poses, pose_nms
from posekit.pose.types import PoseModel
from posekit.track import Tracker
from posekit.track.guided import GuidedCrops, GuideParams, guided_rows
from posekit.track.schedule import DetectionSchedule
from posekit.track.smoothing import TrackSmoother
from posekit.types import Detections, PersonHint, PoseResult, Poses


@dataclass
class VideoOptions:
    """How a tracked stream is processed: det_interval (1 = detect every frame, no guided crops),
    smoothing (None = off, else the One-Euro parameters) and the guided-crop tuning."""

    det_interval: int = 1
    smoothing: OneEuroParams | None = None
    guide: GuideParams = field(default_factory=GuideParams)

    def __post_init__(self) -> None:
        value = self.det_interval
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise PosekitError(f"--det_interval must be a whole number >= 1, got {value!r}")
        self.det_interval = int(value)


def video_options(
    is_stream: bool,
    tracker: str | None,
    det_interval: int | None = None,
    smoothing: OneEuroParams | None = None,
) -> tuple[VideoOptions, str | None]:
    """The VideoOptions of a run and the tracker it needs: det_interval None means DEFAULT_DET_INTERVAL for
    a video or webcam (is_stream) or a tracked run, else 1; guided crops and smoothing follow people with
    the tracker asked for, or the default one (oks) when none was."""
    from posekit.choices import DEFAULT_TRACKER

    if det_interval is None:
        det_interval = DEFAULT_DET_INTERVAL if (is_stream or tracker) else 1
    options = VideoOptions(det_interval=det_interval, smoothing=smoothing)
    if tracker is None and (options.det_interval > 1 or smoothing is not None):
        tracker = DEFAULT_TRACKER
    return options, tracker


class PoseStep:
    """Turns one frame's image and detections (None: the detector did not run on it) into its result."""

    def __init__(
        self,
        pose_model: PoseModel,
        tracker: Tracker | None = None,
        options: VideoOptions | None = None,
        min_box_area: float = 0.0,
        fps: float | None = None,
    ) -> None:
        self.pose_model, self.tracker = pose_model, tracker
        self.options = options or VideoOptions()
        if not pose_model.pose_nms:  # one-stage: its people (and keypoints) come only from the detector
            self.options = replace(self.options, det_interval=1)
        self.min_box_area = min_box_area
        guided = self.options.det_interval > 1
        if (guided or self.options.smoothing is not None) and tracker is None:
            raise PosekitError("--det_interval > 1 and --smooth need a tracker (--pose_track or --pose_flow)")
        self.guide = GuidedCrops(tracker, self.options.guide) if guided and tracker is not None else None
        self.clock = FrameClock(fps)  # the one time of the stream: the tracking region's and the smoother's
        self.smoother = TrackSmoother(self.options.smoothing, fps) if self.options.smoothing else None

    def schedule(self) -> DetectionSchedule:
        """A fresh detector schedule for this step's stream (used by the detect stage, in frame order)."""
        return DetectionSchedule(self.options.det_interval)

    def __call__(
        self,
        image: np.ndarray,
        detections: Detections | None,
        times: dict[str, float],
        timestamp: float | None = None,
        new_scene: bool = False,
    ) -> PoseResult:
        """The frame's people: poses, NMS, track ids and (with smoothing) smoothed keypoints; on a
        new_scene frame no track is followed in (its people come from its detections only)."""
        now, step = self.clock.tick(timestamp)
        hints: list[PersonHint | None] | None = None
        if self.guide is not None:
            size = (image.shape[1], image.shape[0])
            detections, hints = self.guide.plan(size, detections, step, follow=not new_scene)
        if detections is not None and len(detections):
            start = time.perf_counter()
            poses = self.pose_model.estimate(image, detections, hints)
            middle = time.perf_counter()
            result = self._final(detections, poses, hints)
            times["pose"] += middle - start
            times["nms"] += time.perf_counter() - middle
        else:
            result = PoseResult.empty(self.pose_model.num_joints)
        if self.tracker is not None:
            start = time.perf_counter()
            result = self.tracker.update(image, result)
            if self.smoother is not None:
                result = self.smoother(result, now)
            times["track"] += time.perf_counter() - start
        return result

    def _final(
        self, detections: Detections, poses: Poses, hints: list[PersonHint | None] | None
    ) -> PoseResult:
        """The frame's people from the poses of its crops: with guided crops their own boxes, the unsure
        ones dropped and the alignment points filtered (posekit.track.guided); then pose NMS (or, for a
        one-stage model, only the small ones dropped)."""
        boxes, box_scores = detections.boxes, detections.scores
        keypoints, scores = poses.keypoints, poses.scores
        alignment = speed = None
        if self.guide is not None and hints is not None:
            guided = guided_rows(hints)
            if poses.alignment is not None:
                alignment, speed = self.guide.filter_alignment(hints, poses.alignment)
            boxes = self.guide.boxes(boxes, keypoints, scores, guided)
            keep = self.guide.keep(scores, guided)
            boxes, box_scores = boxes[keep], box_scores[keep]
            keypoints, scores = keypoints[keep], scores[keep]
            if alignment is not None and speed is not None:
                alignment, speed = alignment[keep], speed[keep]
        if self.pose_model.pose_nms:
            heatmap_head = getattr(self.pose_model, "loss_type", "MSELoss") == "MSELoss"
            return pose_nms(
                boxes, box_scores, keypoints, scores, min_box_area=self.min_box_area, alignment=alignment,
                alignment_speed=speed, heatmap_head=heatmap_head,
            )  # fmt: skip
        # one-stage: the detector's NMS ran
        return detected_poses(
            boxes, box_scores, keypoints, scores, min_box_area=self.min_box_area, alignment=alignment,
            alignment_speed=speed,
        )  # fmt: skip
