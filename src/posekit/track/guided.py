"""Pose-guided crops between detections (what MediaPipe and LightTrack do, here for many people).

Each person the tracker followed into frame t gets a crop box for frame t+1 from their own pose: the box
of their confident keypoints, widened by a margin, moved by the track's box-centre velocity. The crop
goes to the pose model with a PersonHint (posekit.types): the box, the track id, the track's alignment
points (e.g. the default model's, for MediaPipe's own tracking region) and the seconds since its last
frame. The pose model then runs on that box whether or not the detector saw the person. On frames where
the detector ran too, a detection that overlaps a guided box (IoU >= merge_iou) is that track's person,
who keeps their own crop (one crop per person); the other detections are new people. A guided box mostly
outside the image (the person left) is not cropped, and a guided pose whose mean keypoint score is below
min_pose_score is dropped: either way the track is not continued, so it ends.

The alignment points a pose model returns for a guided pose pass MediaPipe's One-Euro filter here
(`filter_alignment`), from the track's last filtered points and speed, before the tracker keeps them.

The state per person is the tracker's (its `live_tracks()`): nothing here keeps its own bookkeeping.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from posekit.geometry import box_iou
from posekit.one_euro import DEFAULT_FPS, OneEuroParams, one_euro_step
from posekit.track import Tracker
from posekit.track.state import LiveTrack
from posekit.types import Detections, PersonHint

# MediaPipe's One-Euro filter of the alignment points that place the next frame's tracked region
# (pose_landmark_filtering: min_cutoff 0.01 Hz, beta 10, derivative cutoff 1 Hz; speed per region side).
ALIGNMENT_FILTER = OneEuroParams(min_cutoff=0.01, beta=10.0, d_cutoff=1.0)


@dataclass
class GuideParams:
    """Tuning of the pose-guided crops (see the module docstring)."""

    kp_thresh: float = 0.3  # keypoints at least this confident span the crop box
    min_keypoints: int = 3  # fewer confident keypoints: no crop, the track ends
    margin: float = 0.1  # the keypoint box grows by this fraction of its width/height on each side
    min_pose_score: float = 0.3  # a guided pose with a lower mean keypoint score ends its track
    merge_iou: float = 0.4  # a detection overlapping a guided box this much is that track's person
    min_inside: float = 0.5  # a guided box with less of its area inside the image ends its track
    # the filter of a guided pose's alignment points (None: unfiltered)
    alignment_filter: OneEuroParams | None = field(default_factory=lambda: ALIGNMENT_FILTER)


def keypoint_boxes(
    keypoints: np.ndarray, scores: np.ndarray, kp_thresh: float, margin: float, min_keypoints: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) xyxy of each person's keypoints scoring >= kp_thresh, widened by `margin` of their
    size on each side, and whether a person had at least min_keypoints such keypoints (N,)."""
    kps = np.asarray(keypoints, dtype=np.float64).reshape(len(keypoints), -1, 2)
    use = np.asarray(scores) >= kp_thresh
    ok = use.sum(axis=1) >= max(min_keypoints, 1)
    pts = np.where(use[..., None], kps, np.nan)
    boxes = np.zeros((len(kps), 4))
    if ok.any():
        lo, hi = np.nanmin(pts[ok], axis=1), np.nanmax(pts[ok], axis=1)
        pad = margin * (hi - lo)
        boxes[ok] = np.concatenate([lo - pad, hi + pad], axis=1)
    return boxes, ok


def inside_fraction(boxes: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Fraction of each xyxy box's area inside an image of size (w, h) (0 for empty boxes)."""
    w, h = size
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    clipped = np.clip(boxes, 0, [w, h, w, h])
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0, None), axis=1)
    inner = np.prod(np.clip(clipped[:, 2:] - clipped[:, :2], 0, None), axis=1)
    return np.where(area > 0, inner / np.maximum(area, 1e-12), 0.0)


def next_hints(
    tracks: list[LiveTrack], size: tuple[int, int], params: GuideParams, frame_step: float | None = None
) -> tuple[list[PersonHint], np.ndarray]:
    """The hints for the next frame of size (w, h), one per track with enough confident keypoints whose
    moved box stays mostly inside the image (crop box clipped to the image, track id, the track's
    alignment points and their speed, frame_step), and their box scores (M,)."""
    if not tracks:
        return [], np.zeros((0,))
    boxes, ok = keypoint_boxes(
        np.stack([t.keypoints for t in tracks]),
        np.stack([t.scores for t in tracks]),
        params.kp_thresh,
        params.margin,
        params.min_keypoints,
    )
    velocity = np.stack([t.velocity for t in tracks])
    boxes = boxes + np.tile(velocity, 2)
    ok &= inside_fraction(boxes, size) >= params.min_inside
    w, h = size
    keep = np.flatnonzero(ok)
    scores = np.array([float(np.mean(tracks[i].scores)) for i in keep]).reshape(-1)
    clipped = np.clip(boxes[keep], 0, [w, h, w, h])
    hints = [
        PersonHint(box, tracks[i].tid, tracks[i].alignment, tracks[i].alignment_speed, frame_step)
        for i, box in zip(keep, clipped)
    ]
    return hints, scores


def merge_crops(
    hints: Sequence[PersonHint],
    hint_scores: np.ndarray,
    detections: Detections | None,
    merge_iou: float,
) -> tuple[Detections, list[PersonHint | None]]:
    """The crops of one frame: each hint's box, then every detection that overlaps no hint's box by
    IoU >= merge_iou (a new person; one that does is that track's person, who keeps their own crop).
    Returns them as Detections (the hints' rows with zero-filled detector fields) and the hint of each
    row (None for a detection). (benchmarks/track_e2e.py: keeping the track's crop instead of the
    overlapping detection keeps identities better and jitters less; docs/guide/video-tracking.md.)"""
    guided_boxes = np.asarray([h.box for h in hints], dtype=np.float64).reshape(-1, 4)
    found = detections if detections is not None else Detections.empty()
    if len(found) and len(guided_boxes):
        found = found.select(box_iou(found.boxes, guided_boxes).max(axis=1) < merge_iou)
    crops = Detections(
        np.concatenate([guided_boxes, np.asarray(found.boxes, dtype=np.float64).reshape(-1, 4)]),
        np.concatenate([np.asarray(hint_scores, dtype=np.float64).reshape(-1), found.scores.reshape(-1)]),
        _after_zeros(len(hints), found.rotations),
        _after_zeros(len(hints), found.keypoints),
        _after_zeros(len(hints), found.keypoint_scores),
        _after_zeros(len(hints), found.alignment),
        found.second_opinion,
    )
    return crops, [*hints, *([None] * len(found))]


def _after_zeros(count: int, rows: np.ndarray | None) -> np.ndarray | None:
    """A detector's per-person field after `count` zero rows (the guided crops'); None stays None."""
    if rows is None:
        return None
    rows = np.asarray(rows)
    return np.concatenate([np.zeros((count, *rows.shape[1:]), dtype=rows.dtype), rows])


def guided_rows(hints: Sequence[PersonHint | None]) -> np.ndarray:
    """Mask (N,) of the rows that are guided crops (those with a hint)."""
    return np.array([hint is not None for hint in hints], dtype=bool)


def region_side(alignment: np.ndarray) -> float:
    """The side of MediaPipe's region of alignment points (2, 2): twice their distance (the person's
    size the alignment filter's speed is measured in)."""
    return 2.0 * float(np.linalg.norm(alignment[1] - alignment[0]))


def filter_alignment(
    hints: Sequence[PersonHint | None], alignment: np.ndarray, params: OneEuroParams | None
) -> tuple[np.ndarray, np.ndarray]:
    """The alignment points (N, 2, 2) a pose model returned, each guided pose's after the One-Euro
    filter (`params`) from its hint's last points and speed, frame_step seconds later (default one frame
    at DEFAULT_FPS), the speed per region side; and the filter's speeds (N, 2, 2) in px/s. A detected
    pose, or a hint without (or with degenerate) last points, stays as it is with speed 0."""
    filtered = np.array(alignment, dtype=np.float64, copy=True).reshape(-1, 2, 2)
    speeds = np.zeros_like(filtered)
    for i, hint in enumerate(hints):
        if params is None or hint is None or hint.alignment is None:
            continue
        last = np.asarray(hint.alignment, dtype=np.float64)
        side = region_side(last)
        if side <= 1.0:
            continue
        speed = np.zeros((2, 2)) if hint.alignment_speed is None else hint.alignment_speed
        step = 1.0 / DEFAULT_FPS if hint.frame_step is None else float(hint.frame_step)
        filtered[i], speeds[i] = one_euro_step(filtered[i], last, speed, step, params, side)
    return filtered, speeds


class GuidedCrops:
    """Plans each frame's crops from a tracker's live tracks (and the detections, when the detector ran),
    filters the guided poses' alignment points and drops the guided poses too unsure to continue a
    track."""

    def __init__(self, tracker: Tracker, params: GuideParams | None = None) -> None:
        self.tracker = tracker
        self.params = params or GuideParams()

    def plan(
        self,
        size: tuple[int, int],
        detections: Detections | None,
        frame_step: float | None = None,
        follow: bool = True,
    ) -> tuple[Detections, list[PersonHint | None]]:
        """Crops for the next frame of size (w, h) and the hint of each (see merge_crops); frame_step
        (seconds since the tracks' last frame) goes into the hints; follow=False (a new scene) plans the
        detections only."""
        tracks = self.tracker.live_tracks() if follow else []
        hints, scores = next_hints(tracks, size, self.params, frame_step)
        return merge_crops(hints, scores, detections, self.params.merge_iou)

    def filter_alignment(
        self, hints: Sequence[PersonHint | None], alignment: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The pose model's alignment points after the track's filter, and its speeds (filter_alignment)."""
        return filter_alignment(hints, alignment, self.params.alignment_filter)

    def boxes(
        self, boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, guided: np.ndarray
    ) -> np.ndarray:
        """The people's boxes in this frame: a detection's box, or for a guided pose the box of its own
        confident keypoints (its crop box was only a prediction); the crop box if too few are confident."""
        p = self.params
        own, ok = keypoint_boxes(keypoints, scores, p.kp_thresh, p.margin, p.min_keypoints)
        use = np.asarray(guided, dtype=bool) & ok
        return np.where(use[:, None], own, np.asarray(boxes, dtype=np.float64).reshape(-1, 4))

    def keep(self, keypoint_scores: np.ndarray, guided: np.ndarray) -> np.ndarray:
        """Mask of the poses to keep: every detected one, guided ones with mean score >= min_pose_score."""
        mean = np.asarray(keypoint_scores, dtype=np.float64).reshape(len(guided), -1).mean(axis=1)
        keep: np.ndarray = ~guided | (mean >= self.params.min_pose_score)
        return keep
