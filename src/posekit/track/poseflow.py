"""PoseFlow re-implemented: ORB correspondences, box/pose IoU terms, Hungarian matching over frames.

Same algorithm and defaults as AlphaPose's PoseFlow (link 100, num 7, mag 30, match 0.2, weights
[1,2,1,2,0,0] for tracks seen in the previous frame and [0,1,0,1,0,0] for older ones), but the
correspondences stay in memory as arrays, ORB runs once per frame (optionally downscaled and only on
person regions) and every IoU term is computed for all people and keypoints at once with numpy.
Boxes are in PoseFlow's order [xmin, xmax, ymin, ymax].
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.io.atomic import atomic_path
from posekit.track.state import LiveTrack
from posekit.types import PoseResult

# Weights of [dm_iou, box_iou, pose_iou_dm, pose_iou, score1, score2] (the score terms weigh 0).
WEIGHTS_CONSECUTIVE = np.array([1.0, 2.0, 1.0, 2.0, 0.0, 0.0])
WEIGHTS_LINKED = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 0.0])


def pose_boxes(keypoints: np.ndarray, valid: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """PoseFlow's get_box for N people: (N, 4) int [xmin, xmax, ymin, ymax].

    min/max over the keypoints, widened by 10 % of w and h on each side, clipped to the image
    (size = (width, height); None = no clipping), truncated to ints. Keypoints with valid=False
    (score 0: unlabelled or not found) are left out unless a person has no valid keypoint at all.
    """
    if len(keypoints) == 0:
        return np.zeros((0, 4), dtype=np.int64)
    kps = np.asarray(keypoints, dtype=np.float64).reshape(len(keypoints), -1, 2)
    use = np.asarray(valid, dtype=bool).copy()
    use[~use.any(axis=1)] = True
    big = np.where(use[..., None], kps, np.nan)
    lo = np.nanmin(big, axis=1)
    hi = np.nanmax(big, axis=1)
    pad = 0.1 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    if size is not None:
        limit = np.array(size, dtype=np.float64)
        lo = np.clip(lo, 0, limit)
        hi = np.clip(hi, 0, limit)
    return np.stack([lo[:, 0], hi[:, 0], lo[:, 1], hi[:, 1]], axis=1).astype(np.int64)


# Not geometry.box_iou: PoseFlow counts pixels inclusively (+1), and its scores must match AlphaPose's.
def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (N, 4) with every box in b (M, 4), [xmin, xmax, ymin, ymax], +1 pixel rule."""
    return paired_box_iou(
        np.asarray(a, dtype=np.float64)[:, None, :], np.asarray(b, dtype=np.float64)[None, :, :]
    )


def paired_box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes a[..., 4] and b[..., 4] element by element (broadcast), PoseFlow's +1 pixel rule."""
    x0 = np.maximum(a[..., 0], b[..., 0])
    x1 = np.minimum(a[..., 1], b[..., 1])
    y0 = np.maximum(a[..., 2], b[..., 2])
    y1 = np.minimum(a[..., 3], b[..., 3])
    overlap = (x0 < x1) & (y0 < y1)
    inter = np.where(overlap, (x1 - x0 + 1) * (y1 - y0 + 1), 0.0)
    area_a = (a[..., 1] - a[..., 0] + 1) * (a[..., 3] - a[..., 2] + 1)
    area_b = (b[..., 1] - b[..., 0] + 1) * (b[..., 3] - b[..., 2] + 1)
    return np.where(overlap, inter / (area_a + area_b - inter), 0.0)


def keypoint_squares(keypoints: np.ndarray, mag: float) -> np.ndarray:
    """(N, K, 2) keypoints -> (N, K, 4) squares [x-mag, x+mag, y-mag, y+mag]."""
    x, y = keypoints[..., 0], keypoints[..., 1]
    return np.stack([x - mag, x + mag, y - mag, y + mag], axis=-1)


def _top_mean(per_keypoint: np.ndarray, num: int) -> np.ndarray:
    """Mean of the `num` largest values along the last axis."""
    k = min(num, per_keypoint.shape[-1])
    return -np.sort(-per_keypoint, axis=-1)[..., :k].mean(axis=-1)


def pose_iou(
    kps1: np.ndarray, valid1: np.ndarray, kps2: np.ndarray, valid2: np.ndarray, num: int, mag: float
) -> np.ndarray:
    """Per keypoint IoU of the 2·mag squares, mean of the top `num`: (N, M). Invalid keypoints score 0."""
    return _keypoint_term(kps1, valid1, kps2, valid2, num, mag, paired_box_iou)


PAIR_CHUNK = 16384  # candidate pairs per numpy batch: bounds the (pairs, K, 4) temporaries to a few MB


def candidate_pairs(
    kps1: np.ndarray, valid1: np.ndarray, kps2: np.ndarray, valid2: np.ndarray, mag: float
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the people pairs whose valid keypoints, widened by `mag`, have overlapping extents:
    every other pair has no overlapping keypoint squares, so all its keypoint terms are exactly 0."""

    def extents(kps: np.ndarray, valid: np.ndarray) -> np.ndarray:
        inf = np.inf
        lo = np.where(valid[..., None], kps, inf).min(axis=1) - mag
        hi = np.where(valid[..., None], kps, -inf).max(axis=1) + mag
        return np.concatenate([lo, hi], axis=1)  # [xmin, ymin, xmax, ymax]; +-inf for no valid keypoint

    e1, e2 = extents(kps1, valid1)[:, None, :], extents(kps2, valid2)[None, :, :]
    close = (e1[..., 0] <= e2[..., 2]) & (e2[..., 0] <= e1[..., 2])
    close &= (e1[..., 1] <= e2[..., 3]) & (e2[..., 1] <= e1[..., 3])
    rows, cols = np.nonzero(close)
    return rows, cols


def _keypoint_term(kps1, valid1, kps2, valid2, num: int, mag: float, paired_iou) -> np.ndarray:
    """Top-`num` mean over keypoints of paired_iou(square of keypoint k of i, square of k of j), (N, M),
    computed for candidate pairs only: memory grows with the pairs that can score, not with (N·K)²."""
    kps1, kps2 = np.asarray(kps1, dtype=np.float64), np.asarray(kps2, dtype=np.float64)
    valid1, valid2 = np.asarray(valid1, dtype=bool), np.asarray(valid2, dtype=bool)
    out = np.zeros((len(kps1), len(kps2)))
    if out.size == 0:
        return out
    rows, cols = candidate_pairs(kps1, valid1, kps2, valid2, mag)
    sq1, sq2 = keypoint_squares(kps1, mag), keypoint_squares(kps2, mag)
    for start in range(0, len(rows), PAIR_CHUNK):
        r, c = rows[start : start + PAIR_CHUNK], cols[start : start + PAIR_CHUNK]
        per_kp = paired_iou(sq1[r], sq2[c]) * (valid1[r] & valid2[c])  # (P, K)
        out[r, c] = _top_mean(per_kp, num)
    return out


def _inside(points: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(C, 2) points, (..., 4) boxes [xmin, xmax, ymin, ymax] -> bool (..., C): point inside (inclusive)."""
    x, y = points[:, 0], points[:, 1]
    b = boxes[..., None, :]
    return (x >= b[..., 0]) & (x <= b[..., 1]) & (y >= b[..., 2]) & (y <= b[..., 3])


def _set_iou(inter: np.ndarray, count1: np.ndarray, count2: np.ndarray) -> np.ndarray:
    return inter / (count1 + count2 - inter + 1e-5)


def dm_iou(cors: np.ndarray, boxes1: np.ndarray, boxes2: np.ndarray) -> np.ndarray:
    """IoU of the correspondence sets: those starting in boxes1 (frame t-1) vs ending in boxes2 (frame t)."""
    a = _inside(cors[:, 0:2], boxes1).astype(np.float32)
    b = _inside(cors[:, 2:4], boxes2).astype(np.float32)
    inter = a @ b.T
    return _set_iou(inter, a.sum(1)[:, None], b.sum(1)[None, :])


def pose_iou_dm(
    cors: np.ndarray,
    kps1: np.ndarray,
    valid1: np.ndarray,
    kps2: np.ndarray,
    valid2: np.ndarray,
    num: int,
    mag: float,
) -> np.ndarray:
    """pose_iou over correspondence sets inside the keypoint squares: (N, M), top-`num` mean."""
    a = _inside(cors[:, 0:2], keypoint_squares(kps1, mag)).astype(np.float32).transpose(1, 0, 2)
    b = _inside(cors[:, 2:4], keypoint_squares(kps2, mag)).astype(np.float32).transpose(1, 2, 0)
    inter = a @ b  # (K, N, M)
    iou = _set_iou(inter, a.sum(2)[:, :, None], b.sum(1)[:, None, :]).transpose(1, 2, 0)
    return _top_mean(iou * (valid1[:, None, :] & valid2[None, :, :]), num)


def _pixel_count(lo: np.ndarray, hi: np.ndarray, limit: float) -> np.ndarray:
    """Number of integer pixels in [lo, hi] inside [0, limit - 1]."""
    return np.maximum(0.0, np.floor(np.minimum(hi, limit - 1)) - np.ceil(np.maximum(lo, 0)) + 1)


def identity_iou(boxes1: np.ndarray, boxes2: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """dm IoU under AlphaPose's fallback (one identity correspondence per pixel), computed in closed form."""
    b1, b2 = np.asarray(boxes1, float)[:, None, :], np.asarray(boxes2, float)[None, :, :]
    return _paired_identity_iou(b1, b2, size)


def _paired_identity_iou(b1: np.ndarray, b2: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """identity_iou of boxes b1[..., 4] and b2[..., 4] element by element (broadcast)."""
    w, h = size

    def area(b):
        return _pixel_count(b[..., 0], b[..., 1], w) * _pixel_count(b[..., 2], b[..., 3], h)

    inter_box = np.stack(
        [
            np.maximum(b1[..., 0], b2[..., 0]),
            np.minimum(b1[..., 1], b2[..., 1]),
            np.maximum(b1[..., 2], b2[..., 2]),
            np.minimum(b1[..., 3], b2[..., 3]),
        ],
        axis=-1,
    )
    return _set_iou(area(inter_box), area(b1), area(b2))


def identity_pose_iou(
    kps1: np.ndarray,
    valid1: np.ndarray,
    kps2: np.ndarray,
    valid2: np.ndarray,
    num: int,
    mag: float,
    size: tuple[int, int],
) -> np.ndarray:
    """pose_iou_dm under the identity fallback."""
    return _keypoint_term(kps1, valid1, kps2, valid2, num, mag, lambda a, b: _paired_identity_iou(a, b, size))


@dataclass
class Features:
    """ORB keypoint positions (P, 2) in full-resolution pixels and their descriptors (P, 32)."""

    points: np.ndarray
    descriptors: np.ndarray | None


class OrbCorrespondences:
    """ORB features per frame and ratio-test matches between two frames, as (C, 5) [x1, y1, x2, y2, dist].

    nfeatures / scale (frame downscale factor) / regions (detect only inside person boxes) trade
    accuracy for speed; the seed used 10000 features on the full frame.
    """

    def __init__(self, nfeatures: int = 1000, scale: float = 0.5, ratio: float = 0.8) -> None:
        self.scale = float(scale)
        self.ratio = float(ratio)
        self.orb = cv2.ORB.create(nfeatures=int(nfeatures), scoreType=cv2.ORB_FAST_SCORE)
        self.matcher = cv2.BFMatcher(cv2.NORM_HAMMING)

    def features(self, image_rgb: np.ndarray, regions: np.ndarray | None = None) -> Features:
        """Detect and describe ORB features; regions (R, 4) [xmin, xmax, ymin, ymax] limit the search."""
        gray = cv2.cvtColor(image_rgb, cv2.COLOR_RGB2GRAY) if image_rgb.ndim == 3 else image_rgb
        if self.scale != 1.0:
            gray = cv2.resize(gray, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        mask = None
        if regions is not None:
            mask = np.zeros(gray.shape, dtype=np.uint8)
            for x0, x1, y0, y1 in np.round(np.asarray(regions, float) * self.scale).astype(int):
                mask[max(y0, 0) : max(y1 + 1, 0), max(x0, 0) : max(x1 + 1, 0)] = 255
        keypoints, descriptors = self.orb.detectAndCompute(gray, mask)
        points = np.array([kp.pt for kp in keypoints], dtype=np.float32).reshape(-1, 2) / self.scale
        return Features(points, descriptors)

    def match(self, first: Features, second: Features) -> np.ndarray:
        """Correspondences first -> second passing Lowe's ratio test: (C, 5) float32."""
        if first.descriptors is None or second.descriptors is None or len(second.points) < 2:
            return np.zeros((0, 5), dtype=np.float32)
        pairs = self.matcher.knnMatch(first.descriptors, second.descriptors, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < self.ratio * p[1].distance]
        if not good:
            return np.zeros((0, 5), dtype=np.float32)
        q = np.array([g.queryIdx for g in good])
        t = np.array([g.trainIdx for g in good])
        dist = np.array([g.distance for g in good], dtype=np.float32)
        return np.column_stack([first.points[q], second.points[t], dist]).astype(np.float32)


def save_correspondences(path: str | Path, cors: np.ndarray) -> None:
    """Write correspondences as the seed's `{i}_{j}_orb.txt` lines "x1 y1 x2 y2 dist"."""

    with atomic_path(path) as tmp:
        np.savetxt(tmp, cors.reshape(-1, 5), fmt=["%d", "%d", "%d", "%d", "%f"])


@dataclass
class _Track:
    frame: int
    box: np.ndarray  # [xmin, xmax, ymin, ymax]
    keypoints: np.ndarray
    valid: np.ndarray
    scores: np.ndarray | None = None  # keypoint scores of the last pose
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # box centre, px per frame
    alignment: np.ndarray | None = None  # the alignment points of the last pose (PoseResult.alignment)
    alignment_speed: np.ndarray | None = None  # and their filter's speed


@dataclass
class PoseFlowParams:
    """PoseFlow's flags (drop is accepted for compatibility and unused, as in AlphaPose)."""

    link: int = 100
    drop: float = 2.0
    num: int = 7
    mag: float = 30.0
    match: float = 0.2
    orb_features: int = 1000
    orb_scale: float = 0.5
    orb_regions: bool = True
    min_correspondences: int = 40


class PoseFlowTracker:
    """Online PoseFlow: call update(image, result) frame after frame; ids start at 1."""

    def __init__(self, save_matching: str | Path | None = None, **params) -> None:
        self.params = PoseFlowParams(**params)
        self.orb = OrbCorrespondences(self.params.orb_features, self.params.orb_scale)
        self.save_matching = Path(save_matching) if save_matching else None
        self.frame = -1  # counts frames with people: the only frames AlphaPose's PoseFlow sees
        self._index = self._prev_index = -1  # every frame's index, and the last one with people (file names)
        self.max_pid = 0
        self.tracks: dict[int, _Track] = {}
        self._prev_features: Features | None = None
        self._prev_boxes = np.zeros((0, 4))
        self._prev_size: tuple[int, int] | None = None
        self.last_correspondences = np.zeros((0, 5), dtype=np.float32)

    def update(self, image_rgb: np.ndarray | None, result: PoseResult) -> PoseResult:
        """Assign track ids (ints) to the people of the next frame; image None = no correspondences.

        A frame without people is skipped as AlphaPose skips it: the last frame with people stays "the
        previous frame" (full weights and ORB matches across the gap, `link` counted in such frames)."""
        p = self.params
        self._index += 1
        if len(result) == 0:
            return dataclasses.replace(result, ids=[])
        self.frame += 1
        size = (image_rgb.shape[1], image_rgb.shape[0]) if image_rgb is not None else None
        kps = np.asarray(result.keypoints, dtype=np.float64)
        valid = np.asarray(result.keypoint_scores) > 0
        boxes = pose_boxes(kps, valid, size)
        cors = self._correspondences(image_rgb, boxes)
        ids = self._assign(cors, boxes, kps, valid, size)
        kp_scores = np.asarray(result.keypoint_scores, dtype=np.float64)
        for i, (pid, box, kp, v, sc) in enumerate(zip(ids, boxes, kps, valid, kp_scores)):
            alignment = None if result.alignment is None else result.alignment[i]
            speed = None if result.alignment_speed is None else result.alignment_speed[i]
            self.tracks[pid] = _Track(self.frame, box, kp, v, sc, self._velocity(pid, box), alignment, speed)
        for pid in [pid for pid, t in self.tracks.items() if self.frame - t.frame >= p.link]:
            del self.tracks[pid]
        self._prev_boxes, self._prev_size, self._prev_index = boxes, size, self._index
        return dataclasses.replace(result, ids=ids)

    def _correspondences(self, image_rgb: np.ndarray | None, boxes: np.ndarray) -> np.ndarray | None:
        """ORB matches from the previous frame to this one; None = fall back to identity correspondences."""
        self.last_correspondences = np.zeros((0, 5), dtype=np.float32)
        if image_rgb is None:
            self._prev_features = None
            return None
        regions = None
        if self.params.orb_regions:
            margin = self.params.mag + 16
            regions = np.concatenate([boxes, self._prev_boxes]).astype(float)
            regions = regions + np.array([-margin, margin, -margin, margin])
        features = self.orb.features(image_rgb, regions)
        prev, self._prev_features = self._prev_features, features
        if prev is None:
            return None
        cors = self.orb.match(prev, features)
        self.last_correspondences = cors
        if self.save_matching is not None:
            save_correspondences(self.save_matching / f"{self._prev_index}_{self._index}_orb.txt", cors)
        if len(cors) < self.params.min_correspondences:
            return None
        return cors

    def grades(
        self,
        cors: np.ndarray | None,
        boxes: np.ndarray,
        kps: np.ndarray,
        valid: np.ndarray,
        size: tuple[int, int] | None,
    ) -> tuple[list[int], np.ndarray]:
        """Track ids linked within `link` frames and their (T, N) grades against this frame's people."""
        p = self.params
        pids = [pid for pid, t in self.tracks.items() if self.frame - t.frame <= p.link]
        if not pids or len(boxes) == 0:
            return pids, np.zeros((len(pids), len(boxes)))
        tracks = [self.tracks[pid] for pid in pids]
        tb = np.stack([t.box for t in tracks])
        tk = np.stack([t.keypoints for t in tracks])
        tv = np.stack([t.valid for t in tracks])
        fff = np.array([t.frame == self.frame - 1 for t in tracks])
        terms = np.zeros((6, len(pids), len(boxes)))
        terms[1] = box_iou(tb, boxes)
        terms[3] = pose_iou(tk, tv, kps, valid, p.num, p.mag)
        if fff.any():
            f = np.flatnonzero(fff)
            if cors is not None:
                terms[0][f] = dm_iou(cors, tb[f], boxes)
                terms[2][f] = pose_iou_dm(cors, tk[f], tv[f], kps, valid, p.num, p.mag)
            else:
                frame_size = size or self._prev_size or (1 << 30, 1 << 30)
                terms[0][f] = identity_iou(tb[f], boxes, frame_size)
                terms[2][f] = identity_pose_iou(tk[f], tv[f], kps, valid, p.num, p.mag, frame_size)
        weights = np.where(fff[:, None], WEIGHTS_CONSECUTIVE[None, :], WEIGHTS_LINKED[None, :])
        return pids, np.einsum("tw,wtn->tn", weights, terms)

    def _assign(self, cors, boxes, kps, valid, size) -> list[int]:
        """Hungarian assignment on the grades; unmatched people get new ids."""
        pids, grade = self.grades(cors, boxes, kps, valid, size)
        ids: list[int | None] = [None] * len(boxes)
        if grade.size:
            rows, cols = linear_sum_assignment(grade, maximize=True)
            for r, c in zip(rows, cols):
                if grade[r, c] > self.params.match:
                    ids[c] = pids[r]
        final = []
        for pid in ids:
            if pid is None:
                self.max_pid += 1
                pid = self.max_pid
            final.append(int(pid))
        return final

    def _velocity(self, pid: int, box: np.ndarray) -> np.ndarray:
        """Box-centre motion (px per frame) of track pid from its last box to `box`."""
        old = self.tracks.get(pid)
        if old is None or self.frame <= old.frame:
            return np.zeros(2)
        centre = (box[[0, 2]] + box[[1, 3]]) / 2.0
        return (centre - (old.box[[0, 2]] + old.box[[1, 3]]) / 2.0) / (self.frame - old.frame)

    def live_tracks(self) -> list[LiveTrack]:
        """The tracks seen in the latest frame: last pose, box (xyxy) and box-centre velocity."""
        return [
            LiveTrack(
                pid,
                t.box[[0, 2, 1, 3]].astype(np.float64),
                t.keypoints.copy(),
                t.scores.copy(),
                t.velocity.copy(),
                t.alignment,
                t.alignment_speed,
            )
            for pid, t in self.tracks.items()
            if t.frame == self.frame and t.scores is not None
        ]
