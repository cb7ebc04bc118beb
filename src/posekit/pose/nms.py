"""Pose NMS: AlphaPose's parametric pose NMS (with pose merging) and its OKS NMS (validate --oks-nms).

Both take the poses of one image and return a PoseResult whose `merged` list the merged detection indices.
Parametric: `scores` are AlphaPose's proposal scores (mean(kp) + box score + 1.25 max(kp)). OKS: the
proposal score rescored by the mean of the keypoint scores above 0.2, as AlphaPose writes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.errors import PosekitError
from posekit.geometry import box_to_center_scale
from posekit.skeleton import set_for_joints
from posekit.types import PoseResult

# AlphaPose's constants for 17-joint bodies.
DELTA1, MU, DELTA2, GAMMA = 1.0, 1.7, 2.65, 22.48
SCORE_THRESHOLD, MATCH_THRESHOLD, ALPHA = 0.3, 5, 0.1
OKS_THRESHOLD, VIS_THRESHOLD = 0.9, 0.2


@dataclass(frozen=True)
class NmsConstants:
    """The parametric pose NMS constants (AlphaPose's module globals of pPose_nms.py)."""

    delta1: float = DELTA1
    mu: float = MU
    delta2: float = DELTA2
    gamma: float = GAMMA
    score_threshold: float = SCORE_THRESHOLD
    match_threshold: float = MATCH_THRESHOLD
    alpha: float = ALPHA


BODY = NmsConstants()
# What AlphaPose switches to for 133/136 joints from a regression head (not DATA_PRESET.LOSS_TYPE MSELoss).
WHOLE_BODY_REGRESSION = NmsConstants(1.0, 1.65, 8.0, 3.6, 0.01, 3.0, 0.15)
# Whole-body similarity: face and hand distance factors and the part weights of pose_nms_fullbody.
FACE_FACTOR, HAND_FACTOR = 1.9, 0.55
FACE_SCORE_WEIGHT, HAND_SCORE_WEIGHT, FACE_DIST_WEIGHT, HAND_DIST_WEIGHT = 1.0, 0.1, 1.0, 1.5


def proposal_scores(keypoint_scores: np.ndarray, box_scores: np.ndarray) -> np.ndarray:
    """AlphaPose's person score: mean(kp) + box score + 1.25 * max(kp)."""
    return keypoint_scores.mean(axis=1) + box_scores + 1.25 * keypoint_scores.max(axis=1)


def pose_nms(
    boxes: np.ndarray,
    box_scores: np.ndarray,
    keypoints: np.ndarray,
    keypoint_scores: np.ndarray,
    min_box_area: float = 0.0,
    method: str = "parametric",
    crop_aspect: float = 192 / 256,
    alignment: np.ndarray | None = None,
    alignment_speed: np.ndarray | None = None,
    heatmap_head: bool = True,
) -> PoseResult:
    """Suppress duplicate poses of one image; "parametric" (AlphaPose's default) or "oks".

    crop_aspect: the pose input's w/h, which makes the crop boxes whose areas OKS NMS uses; alignment,
    alignment_speed: the tracked poses' alignment points and their filter's speed (N rows each), kept
    for the picked poses (PoseResult.alignment, alignment_speed).
    133/136 joints use AlphaPose's whole-body similarity (pose_nms_fullbody), with its other constants
    when the poses come from a regression head (heatmap_head False).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    box_scores = np.asarray(box_scores, dtype=np.float64).reshape(-1)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    scores = np.asarray(keypoint_scores, dtype=np.float64).copy()
    num_joints = keypoints.shape[1] if keypoints.ndim == 3 else 17
    if len(boxes) == 0:
        return PoseResult.empty(num_joints)
    if method == "oks":
        return _oks(
            boxes, box_scores, keypoints, scores, crop_aspect, min_box_area, alignment, alignment_speed
        )
    if method != "parametric":
        raise PosekitError(f"unknown pose NMS method {method!r} (use 'parametric' or 'oks')")
    scores[scores == 0] = 1e-5
    whole_body = num_joints in (133, 136)
    constants = WHOLE_BODY_REGRESSION if whole_body and not heatmap_head else BODY
    kept = _parametric(boxes, keypoints, scores, min_box_area, constants, whole_body)
    if not kept:
        return PoseResult.empty(num_joints)
    picks = [k[0] for k in kept]
    merged_xy = np.stack([k[1] for k in kept])
    merged_scores = np.stack([k[2] for k in kept])
    return PoseResult(
        boxes=boxes[picks],
        box_scores=box_scores[picks],
        keypoints=merged_xy,
        keypoint_scores=merged_scores,
        scores=proposal_scores(merged_scores, box_scores[picks]),
        merged=[[int(i) for i in k[3]] for k in kept],
        alignment=_rows(alignment, picks),
        alignment_speed=_rows(alignment_speed, picks),
    )


def detected_poses(
    boxes: np.ndarray,
    box_scores: np.ndarray,
    keypoints: np.ndarray,
    keypoint_scores: np.ndarray,
    min_box_area: float = 0.0,
    alignment: np.ndarray | None = None,
    alignment_speed: np.ndarray | None = None,
) -> PoseResult:
    """The poses as detected, for people that are already final (a one-stage detector's NMS ran):
    only those smaller than min_box_area are dropped; the person score is the box score; alignment and
    alignment_speed as in pose_nms."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    keep = [i for i in range(len(boxes)) if not _too_small(keypoints[i], min_box_area)]
    box_scores = np.asarray(box_scores, dtype=np.float64).reshape(-1)[keep]
    return PoseResult(
        boxes=boxes[keep],
        box_scores=box_scores,
        keypoints=keypoints[keep],
        keypoint_scores=np.asarray(keypoint_scores, dtype=np.float64)[keep],
        scores=box_scores.copy(),
        merged=[[i] for i in keep],
        alignment=_rows(alignment, keep),
        alignment_speed=_rows(alignment_speed, keep),
    )


def _rows(values: np.ndarray | None, picks: list[int]) -> np.ndarray | None:
    """The picked rows of an optional per-pose array (None stays None)."""
    return None if values is None else np.asarray(values)[picks]


def _parametric(boxes, keypoints, scores, min_box_area, c: NmsConstants = BODY, whole_body: bool = False):
    """Greedy picks by mean keypoint score; returns [(pick, merged xy, merged scores, merged ids)]."""
    ref_dists = c.alpha * np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    human_scores = scores.mean(axis=1)
    remaining = np.arange(len(boxes))
    kept = []
    while remaining.size:
        pick = remaining[np.argmax(human_scores[remaining])]
        dist = np.linalg.norm(keypoints[remaining] - keypoints[pick], axis=2)  # (R, K)
        if whole_body:
            simi = _whole_body_similarity(dist, scores[pick], scores[remaining], c)
            num_match = _whole_body_matches(dist, scores[pick], min(ref_dists[pick], 7), c)
        else:
            score_term = np.where(
                dist <= 1, np.tanh(scores[pick] / c.delta1) * np.tanh(scores[remaining] / c.delta1), 0
            )
            simi = score_term.sum(axis=1) + c.mu * np.exp(-dist / c.delta2).sum(axis=1)
            num_match = (dist / min(ref_dists[pick], 7) <= 1).sum(axis=1)
        delete = (simi > c.gamma) | (num_match >= c.match_threshold)
        if not delete.any():
            delete = remaining == pick
        merged = remaining[delete]
        remaining = remaining[~delete]
        if scores[pick].max() < c.score_threshold:
            continue
        xy, kp_scores = _merge(keypoints[pick], keypoints[merged], scores[merged], min(ref_dists[pick], 15))
        if kp_scores.max() < c.score_threshold or _too_small(xy, min_box_area):
            continue
        kept.append((int(pick), xy, kp_scores, merged))
    return kept


def _whole_body_similarity(dist, pick_scores, scores, c: NmsConstants) -> np.ndarray:
    """AlphaPose's get_parametric_distance with its distance mask: only candidate keypoints scored below
    the threshold count; body, face (last 110 to last 42) and hands (last 42) averaged and weighted."""
    low = scores < c.score_threshold
    score_term = np.where((dist <= 1) & low, np.tanh(pick_scores / c.delta1) * np.tanh(scores / c.delta1), 0)
    point = np.exp(-dist / c.delta2)
    point[:, -110:-42] = np.exp(-dist[:, -110:-42] / (c.delta2 * FACE_FACTOR))
    point[:, -42:] = np.exp(-dist[:, -42:] / (c.delta2 * HAND_FACTOR))
    point[low] = 0

    def parts(values: np.ndarray, face: float, hand: float) -> np.ndarray:
        body_part = values[:, :-110].mean(axis=1)
        return body_part + values[:, -110:-42].mean(axis=1) * face + values[:, -42:].mean(axis=1) * hand

    return parts(score_term, FACE_SCORE_WEIGHT, HAND_SCORE_WEIGHT) + c.mu * parts(
        point, FACE_DIST_WEIGHT, HAND_DIST_WEIGHT
    )


def _whole_body_matches(dist, pick_scores, ref_dist: float, c: NmsConstants) -> np.ndarray:
    """AlphaPose's PCK_match_fullbody: matches of body (first 26), face (26-93) and hands (94-) within
    ref, 1.9 ref and 0.55 ref, scaled by K / (4 x candidates x confident pick joints)."""
    rows, k = dist.shape
    confident = int((pick_scores > c.score_threshold / 2).sum())
    mask_total = 2 * rows * confident
    if mask_total < 2:
        return np.zeros(rows)
    body = (dist[:, :26] / ref_dist <= 1).sum(axis=1)
    face = (dist[:, 26:94] / ref_dist <= FACE_FACTOR).sum(axis=1)
    hand = (dist[:, 94:] / ref_dist <= HAND_FACTOR).sum(axis=1)
    return (body + face + hand) / mask_total / 2 * k


def _merge(pick_xy: np.ndarray, cluster_xy: np.ndarray, cluster_scores: np.ndarray, radius: float):
    """Score-weighted average of the cluster's keypoints lying within `radius` of the pick's."""
    mask = np.linalg.norm(cluster_xy - pick_xy, axis=2) <= radius  # (n, K)
    masked = cluster_scores * mask
    total = masked.sum(axis=0)
    weights = np.divide(masked, total, out=np.zeros_like(masked), where=total > 0)
    xy = (cluster_xy * weights[..., None]).sum(axis=0)
    return xy, (masked * weights).sum(axis=0)


def _too_small(xy: np.ndarray, min_box_area: float) -> bool:
    extent = xy.max(axis=0) - xy.min(axis=0)
    return 1.5**2 * extent[0] * extent[1] < min_box_area


def crop_box_areas(boxes: np.ndarray, aspect_ratio: float) -> np.ndarray:
    """Area of each xyxy box's crop box (widened to `aspect_ratio` w/h, x1.25), as AlphaPose's validation
    stores it in `area`."""
    return np.array(
        [np.prod(box_to_center_scale(x1, y1, x2 - x1, y2 - y1, aspect_ratio)[1]) for x1, y1, x2, y2 in boxes]
    )


def oks_nms(keypoints: np.ndarray, scores: np.ndarray, areas: np.ndarray) -> list[tuple[int, list[int]]]:
    """AlphaPose's greedy oks_nms: take the best remaining person, drop every other whose OKS with it is
    > 0.9; OKS over all joints with the keypoint set's sigmas (posekit.skeleton), scale = the mean of the
    two areas. Returns each pick, in pick order, with the indices it suppressed (itself included,
    ascending)."""
    sigmas = set_for_joints(keypoints.shape[1]).oks_sigmas
    variances = (2 * sigmas) ** 2
    order = np.argsort(scores, kind="stable")[::-1]  # AlphaPose: scores.argsort()[::-1]
    keep = []
    while order.size:
        pick, rest = order[0], order[1:]
        d2 = ((keypoints[rest] - keypoints[pick]) ** 2).sum(axis=2)
        scale = (areas[pick] + areas[rest])[:, None] / 2 + np.spacing(1)
        oks = np.exp(-d2 / variances / scale / 2).mean(axis=1)
        keep.append((int(pick), sorted([int(pick), *rest[oks > OKS_THRESHOLD].tolist()])))
        order = rest[oks <= OKS_THRESHOLD]
    return keep


def _oks(
    boxes, box_scores, keypoints, scores, crop_aspect, min_box_area, alignment=None, alignment_speed=None
) -> PoseResult:
    """validate.py --oks-nms: rescore (mean of keypoint scores > 0.2) x proposal score, OKS NMS on the crop
    box areas, keep every pick with its rescored score."""
    visible = scores > VIS_THRESHOLD
    mean_visible = (scores * visible).sum(axis=1) / np.maximum(visible.sum(axis=1), 1)
    rescored = mean_visible * proposal_scores(scores, box_scores)
    kept = [
        (pick, group)
        for pick, group in oks_nms(keypoints, rescored, crop_box_areas(boxes, crop_aspect))
        if not _too_small(keypoints[pick], min_box_area)
    ]
    picks = [pick for pick, _ in kept]
    return PoseResult(
        boxes=boxes[picks],
        box_scores=box_scores[picks],
        keypoints=keypoints[picks],
        keypoint_scores=scores[picks],
        scores=rescored[picks],
        merged=[group for _, group in kept],
        alignment=_rows(alignment, picks),
        alignment_speed=_rows(alignment_speed, picks),
    )
