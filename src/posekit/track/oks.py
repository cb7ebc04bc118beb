"""An online pose tracker: OKS and box IoU against constant-velocity predictions, plus colour re-id.

Per frame, every track seen within `max_age` frames is moved forward with its velocity (for at most
`max_predict` frames) and scored against each new pose by motion = 0.5·OKS + 0.5·IoU, plus a small
bonus for similar colours (HSV histograms of torso and thighs). One Hungarian assignment links a pose
to a track if motion >= min_motion, or, for a track lost for 2+ frames, if the colours alone are
similar enough (>= min_reid), so people who leave and come back within the window get their id back.
Poses left over start new tracks. Ids start at 1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.geometry import box_iou
from posekit.skeleton import set_for_joints
from posekit.track.state import LiveTrack
from posekit.types import PoseResult


def oks_matrix(kps1, valid1, kps2, valid2, areas1, sigmas=None) -> np.ndarray:
    """OKS of every pose in set 1 (N, K, 2) with every pose in set 2 (M, K, 2), scale from areas1: (N, M).

    sigmas: per joint; by default the sigmas of the K-joint keypoint set (posekit.skeleton)."""
    if sigmas is None:
        sigmas = set_for_joints(kps1.shape[1]).oks_sigmas
    d2 = ((kps1[:, None] - kps2[None, :]) ** 2).sum(-1)
    var = (2.0 * np.asarray(sigmas)[: kps1.shape[1]]) ** 2
    e = d2 / (2.0 * np.maximum(areas1, 1.0)[:, None, None] * var)
    both = valid1[:, None, :] & valid2[None, :, :]
    count = both.sum(-1)
    return np.where(count > 0, (np.exp(-e) * both).sum(-1) / np.maximum(count, 1), 0.0)


# Body parts described by colour: torso (shoulders, hips) and thighs (hips, knees), shrunk inwards.
APPEARANCE_PARTS = (((5, 6, 11, 12), 0.1), ((11, 12, 13, 14), 0.15))
HIST_BINS = (8, 4, 4)


def appearance(image_rgb: np.ndarray, keypoints: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Colour descriptors (N, 256): HSV histograms of the torso and thighs spanned by the keypoints.

    Square-rooted and unit-norm, so the dot product of two descriptors is a Bhattacharyya-type
    similarity (1 = same colours). A part with fewer than 2 valid keypoints contributes zeros.
    """
    h, w = image_rgb.shape[:2]
    size = int(np.prod(HIST_BINS))
    out = np.zeros((len(keypoints), size * len(APPEARANCE_PARTS)), dtype=np.float32)
    for i, (kps, ok) in enumerate(zip(keypoints, valid)):
        for j, (part, shrink) in enumerate(APPEARANCE_PARTS):
            idx = list(part)
            if ok[idx].sum() < 2:
                continue
            pts = kps[idx][ok[idx]]
            lo, hi = pts.min(0), pts.max(0)
            lo, hi = lo + shrink * (hi - lo), hi - shrink * (hi - lo)
            x0, y0 = np.maximum(lo, 0).astype(int)
            x1, y1 = np.minimum(hi, [w, h]).astype(int)
            if x1 - x0 < 3 or y1 - y0 < 3:
                continue
            crop = cv2.resize(image_rgb[y0:y1, x0:x1], (24, 36), interpolation=cv2.INTER_NEAREST)
            hsv = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)
            hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256]).ravel()
            out[i, j * size : (j + 1) * size] = hist / max(hist.sum(), 1.0)
    out = np.sqrt(out)
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@dataclass
class OksParams:
    """Tuning of the OKS tracker."""

    max_age: int = 60  # frames a lost track is kept for re-identification
    min_motion: float = 0.15  # 0.5·OKS + 0.5·IoU needed to continue a track
    min_reid: float = 0.7  # appearance similarity that revives a lost track anywhere
    kp_thresh: float = 0.05  # keypoints with a lower score are ignored
    app_kp_thresh: float = 0.4  # keypoints with a lower score (occluded) do not define colour regions
    velocity_smoothing: float = 0.5
    appearance_bonus: float = 0.3
    max_predict: int = 8  # frames of constant-velocity extrapolation at most


@dataclass
class _Track:
    tid: int
    frame: int
    keypoints: np.ndarray
    valid: np.ndarray
    box: np.ndarray  # xyxy
    velocity: np.ndarray  # (2,) px per frame
    feature: np.ndarray | None
    scores: np.ndarray | None = None  # keypoint scores of the last pose
    alignment: np.ndarray | None = None  # the alignment points of the last pose (PoseResult.alignment)
    alignment_speed: np.ndarray | None = None  # and their filter's speed


class OksTracker:
    """Online tracker by OKS + IoU with a constant-velocity model and appearance re-identification."""

    def __init__(self, **params) -> None:
        self.params = OksParams(**params)
        self.frame = -1
        self.next_id = 1
        self.tracks: list[_Track] = []

    def update(self, image_rgb: np.ndarray | None, result: PoseResult) -> PoseResult:
        """Assign track ids (ints) to the people of the next frame; image None = no appearance cue."""
        p = self.params
        self.frame += 1
        self.tracks = [t for t in self.tracks if self.frame - t.frame <= p.max_age]
        kps = np.asarray(result.keypoints, dtype=np.float64)
        kp_scores = np.asarray(result.keypoint_scores, dtype=np.float64)
        valid = kp_scores > p.kp_thresh
        boxes = self._boxes(result, kps, valid)
        seen = np.asarray(result.keypoint_scores) > p.app_kp_thresh
        feats = appearance(image_rgb, kps, seen) if image_rgb is not None and len(boxes) else None
        ids: list[int | None] = [None] * len(boxes)
        clean = self._torso_seen(feats, len(boxes))
        if self.tracks and len(boxes):
            self._match(kps, valid, boxes, feats, clean, ids)
        final: list[int] = []
        for i in range(len(boxes)):
            tid = ids[i]
            if tid is None:
                tid = self.next_id
                self.tracks.append(_Track(tid, self.frame, kps[i], valid[i], boxes[i], np.zeros(2), None))
                self.next_id += 1
            final.append(int(tid))
            track = self._track(tid)
            self._refresh(track, kps[i], valid[i], boxes[i], feats, i, clean[i])
            track.scores = kp_scores[i]
            track.alignment = None if result.alignment is None else result.alignment[i]
            track.alignment_speed = None if result.alignment_speed is None else result.alignment_speed[i]
        return dataclasses.replace(result, ids=final)

    def live_tracks(self) -> list[LiveTrack]:
        """The tracks seen in the latest frame: last pose, box and (smoothed) box-centre velocity."""
        return [
            LiveTrack(
                t.tid,
                t.box.copy(),
                t.keypoints.copy(),
                t.scores.copy(),
                t.velocity.copy(),
                t.alignment,
                t.alignment_speed,
            )
            for t in self.tracks
            if t.frame == self.frame and t.scores is not None
        ]

    @staticmethod
    def _boxes(result: PoseResult, kps: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Detection boxes if given, else the extent of the valid keypoints."""
        boxes = np.asarray(result.boxes, dtype=np.float64).reshape(-1, 4)
        if len(boxes) == len(kps) and (boxes[:, 2:] > boxes[:, :2]).all():
            return boxes
        use = valid.copy()
        use[~use.any(1)] = True
        pts = np.where(use[..., None], kps, np.nan)
        return np.concatenate([np.nanmin(pts, 1), np.nanmax(pts, 1)], axis=1)

    def _track(self, tid: int) -> _Track:
        return next(t for t in self.tracks if t.tid == tid)

    def _predicted(self, tracks: list[_Track]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Keypoints, boxes and OKS areas of the tracks moved forward with their velocities."""
        gaps = np.array([min(self.frame - t.frame, self.params.max_predict) for t in tracks], float)
        shift = np.stack([t.velocity for t in tracks]) * gaps[:, None]
        kps = np.stack([t.keypoints for t in tracks]) + shift[:, None, :]
        boxes = np.stack([t.box for t in tracks]) + np.tile(shift, 2)
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) * (1.0 + 0.25 * (gaps - 1))
        return kps, boxes, areas

    def _match(self, kps, valid, boxes, feats, clean, ids: list) -> None:
        """One Hungarian assignment of poses to tracks (see the module docstring); fills `ids`."""
        p = self.params
        tracks = self.tracks
        pk, pb, areas = self._predicted(tracks)
        tv = np.stack([t.valid for t in tracks])
        motion = 0.5 * oks_matrix(pk, tv, kps, valid, areas) + 0.5 * box_iou(pb, boxes)
        app = self._app_matrix(tracks, feats, len(ids))
        has_app = np.array([t.feature is not None for t in tracks])[:, None] & (feats is not None)
        own_colours = has_app & clean[None, :]
        lost = np.array([self.frame - t.frame >= 2 for t in tracks])[:, None]
        allowed = (motion >= p.min_motion) | (lost & own_colours & (app >= p.min_reid))
        score = motion + p.appearance_bonus * app
        score = np.where(allowed, score, -1.0)
        rows, cols = linear_sum_assignment(score, maximize=True)
        for r, c in zip(rows, cols):
            if allowed[r, c]:
                ids[c] = tracks[r].tid

    @staticmethod
    def _app_matrix(tracks: list[_Track], feats: np.ndarray | None, n: int) -> np.ndarray:
        if feats is None:
            return np.zeros((len(tracks), n))
        tf = np.stack(
            [t.feature if t.feature is not None else np.zeros(feats.shape[1], np.float32) for t in tracks]
        )
        return tf @ feats.T

    @staticmethod
    def _torso_seen(feats: np.ndarray | None, n: int) -> np.ndarray:
        """True for poses whose torso colours were measured (its keypoints confidently visible)."""
        if feats is None:
            return np.zeros(n, dtype=bool)
        return np.asarray(feats[:, : int(np.prod(HIST_BINS))].any(axis=1))

    def _refresh(self, track: _Track, kps, valid, box, feats, i: int, clean: bool) -> None:
        """Move a track to its new pose, smoothing the velocity and the appearance."""
        gap = self.frame - track.frame
        if gap > 0:
            step = ((box[:2] + box[2:]) - (track.box[:2] + track.box[2:])) / (2.0 * gap)
            a = self.params.velocity_smoothing
            if gap <= 2:
                track.velocity = a * step + (1 - a) * track.velocity
            else:  # back after an occlusion (mean step over the gap) or a long absence (unknown)
                track.velocity = step if gap <= self.params.max_predict else np.zeros(2)
        track.keypoints = kps
        track.valid = valid
        track.box = box
        track.frame = self.frame
        if feats is not None and feats[i].any() and (clean or track.feature is None):
            f = feats[i] if track.feature is None else 0.8 * track.feature + 0.2 * feats[i]
            track.feature = f / max(float(np.linalg.norm(f)), 1e-9)
