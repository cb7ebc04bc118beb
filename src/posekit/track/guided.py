"""Pose-guided crops between detections (what MediaPipe and LightTrack do, here for many people).

Each person the tracker followed into frame t gets a crop box for frame t+1 from their own pose: the box
of their confident keypoints, widened by a margin, moved by the track's box-centre velocity; the track's
pose extras (e.g. the default model's filtered alignment points, for MediaPipe's own tracking region)
travel with the box as detection extras. The pose model then runs on that box whether or not
the detector saw the person. On frames where the detector ran too, a detection that overlaps a guided
box (IoU >= merge_iou) is that track's person, who keeps their own crop (one crop per person); the other
detections are new people. A guided box mostly outside the image (the person left) is not cropped, and
a guided pose whose mean keypoint score is below min_pose_score is dropped: either way the track is not
continued, so it ends.

The state per person is the tracker's (its `live_tracks()`): nothing here keeps its own bookkeeping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.geometry import box_iou
from posekit.track.state import LiveTrack
from posekit.types import Detections


@dataclass
class GuideParams:
    """Tuning of the pose-guided crops (see the module docstring)."""

    kp_thresh: float = 0.3  # keypoints at least this confident span the crop box
    min_keypoints: int = 3  # fewer confident keypoints: no crop, the track ends
    margin: float = 0.1  # the keypoint box grows by this fraction of its width/height on each side
    min_pose_score: float = 0.3  # a guided pose with a lower mean keypoint score ends its track
    merge_iou: float = 0.4  # a detection overlapping a guided box this much is that track's person
    min_inside: float = 0.5  # a guided box with less of its area inside the image ends its track


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


def next_boxes(
    tracks: list[LiveTrack], size: tuple[int, int], params: GuideParams
) -> tuple[list[int], np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Track ids, crop boxes (M, 4) xyxy clipped to the image, box scores (M,) and extras for the next
    frame: the tracks with enough confident keypoints whose moved box stays mostly inside the image. The
    extras are the pose extras (LiveTrack.extras) every live track has, stacked."""
    if not tracks:
        return [], np.zeros((0, 4)), np.zeros((0,)), {}
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
    extras = {}
    for name in sorted(set.intersection(*(set(t.extras) for t in tracks))):
        rows = np.stack([np.asarray(t.extras[name]) for t in tracks])
        extras[name] = rows[keep]
    return [tracks[i].tid for i in keep], np.clip(boxes[keep], 0, [w, h, w, h]), scores, extras


def merge_crops(
    guided_boxes: np.ndarray,
    guided_scores: np.ndarray,
    detections: Detections | None,
    merge_iou: float,
    guided_extras: dict[str, np.ndarray] | None = None,
) -> tuple[Detections, np.ndarray]:
    """The crops of one frame: each guided box, then every detection that overlaps no guided box by
    IoU >= merge_iou (a new person; one that does is that track's person, who keeps their own crop).
    Returns them as Detections and a mask (N,) that is True for the guided rows. Guided rows get
    zero-filled detector extras and their own `guided_extras` (rows aligned with guided_boxes; zero-filled
    for the detections), and every row the extra "guided": True for a tracked region, so a pose model
    declaring it can run a single pass there. (benchmarks/track_e2e.py, --det_interval 3 / 5 / 10, with
    the default model's tracked alignment regions before their One-Euro filter, the pan's ignore regions
    not applied: keeping the track's crop instead of the overlapping detection gave IDF1 0.481 / 0.459 /
    0.452 against 0.420 / 0.429 / 0.407 on the PoseTrack pan and 0.610 / 0.635 / 0.574 against 0.662 /
    0.643 / 0.578 on the synthetic one, and a still clip jitters 8.0 px a frame against 13.3 at
    interval 3.)"""
    guided_boxes = np.asarray(guided_boxes, dtype=np.float64).reshape(-1, 4)
    found = detections if detections is not None else Detections.empty()
    if len(found) and len(guided_boxes):
        found = found.select(box_iou(found.boxes, guided_boxes).max(axis=1) < merge_iou)
    count = len(guided_boxes)
    extras = {
        name: np.concatenate([np.zeros((count, *value.shape[1:]), dtype=value.dtype), value])
        for name, value in found.extras.items()
    }
    for name, value in (guided_extras or {}).items():
        rows = np.asarray(value)
        extras[name] = np.concatenate([rows, np.zeros((len(found), *rows.shape[1:]), dtype=rows.dtype)])
    crops = Detections(
        np.concatenate([guided_boxes, np.asarray(found.boxes, dtype=np.float64).reshape(-1, 4)]),
        np.concatenate([np.asarray(guided_scores, dtype=np.float64).reshape(-1), found.scores.reshape(-1)]),
        extras,
    )
    guided = np.concatenate([np.ones(count, dtype=bool), np.zeros(len(found), dtype=bool)])
    crops.extras["guided"] = guided.copy()
    return crops, guided


class GuidedCrops:
    """Plans each frame's crops from a tracker's live tracks (and the detections, when the detector ran),
    and drops the guided poses too unsure to continue a track."""

    def __init__(self, tracker, params: GuideParams | None = None) -> None:
        self.tracker = tracker
        self.params = params or GuideParams()

    def plan(
        self,
        size: tuple[int, int],
        detections: Detections | None,
        frame_step: float | None = None,
        follow: bool = True,
    ) -> tuple[Detections, np.ndarray]:
        """Crops for the next frame of size (w, h) and the mask of guided ones (see merge_crops); with
        frame_step (seconds since the tracks' last frame) every row gets it as the extra "frame_step";
        follow=False (a new scene) plans the detections only."""
        tracks = self.tracker.live_tracks() if follow else []
        _, boxes, scores, extras = next_boxes(tracks, size, self.params)
        crops, guided = merge_crops(boxes, scores, detections, self.params.merge_iou, extras)
        if frame_step is not None:
            crops.extras["frame_step"] = np.full(len(crops), float(frame_step))
        return crops, guided

    def boxes(self, boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray, guided: np.ndarray):
        """The people's boxes in this frame: a detection's box, or for a guided pose the box of its own
        confident keypoints (its crop box was only a prediction); the crop box if too few are confident."""
        p = self.params
        own, ok = keypoint_boxes(keypoints, scores, p.kp_thresh, p.margin, p.min_keypoints)
        use = np.asarray(guided, dtype=bool) & ok
        return np.where(use[:, None], own, np.asarray(boxes, dtype=np.float64).reshape(-1, 4))

    def keep(self, keypoint_scores: np.ndarray, guided: np.ndarray) -> np.ndarray:
        """Mask of the poses to keep: every detected one, guided ones with mean score >= min_pose_score."""
        mean = np.asarray(keypoint_scores, dtype=np.float64).reshape(len(guided), -1).mean(axis=1)
        return ~guided | (mean >= self.params.min_pose_score)
