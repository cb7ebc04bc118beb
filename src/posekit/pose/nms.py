"""Pose NMS: AlphaPose's parametric pose NMS (with pose merging) and an OKS-based alternative.

Both take the poses of one image and return a PoseResult whose `scores` are AlphaPose's proposal
scores (mean(kp) + box score + 1.25 max(kp)) and whose `ids` list the merged detection indices.
"""

from __future__ import annotations

import numpy as np

from posekit.errors import PosekitError
from posekit.skeleton import OKS_SIGMAS
from posekit.types import PoseResult

# AlphaPose's constants for 17-joint bodies.
DELTA1, MU, DELTA2, GAMMA = 1.0, 1.7, 2.65, 22.48
SCORE_THRESHOLD, MATCH_THRESHOLD, ALPHA = 0.3, 5, 0.1
OKS_THRESHOLD, VIS_THRESHOLD = 0.9, 0.2


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
) -> PoseResult:
    """Suppress duplicate poses of one image; "parametric" (AlphaPose's default) or "oks"."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    box_scores = np.asarray(box_scores, dtype=np.float64).reshape(-1)
    keypoints = np.asarray(keypoints, dtype=np.float64)
    scores = np.asarray(keypoint_scores, dtype=np.float64).copy()
    num_joints = keypoints.shape[1] if keypoints.ndim == 3 else 17
    if len(boxes) == 0:
        return PoseResult.empty(num_joints)
    scores[scores == 0] = 1e-5
    if method == "parametric":
        kept = _parametric(boxes, keypoints, scores, min_box_area)
    elif method == "oks":
        kept = _oks(boxes, keypoints, scores, min_box_area)
    else:
        raise PosekitError(f"unknown pose NMS method {method!r} (use 'parametric' or 'oks')")
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
        ids=[[int(i) for i in k[3]] for k in kept],
    )


def detected_poses(
    boxes: np.ndarray,
    box_scores: np.ndarray,
    keypoints: np.ndarray,
    keypoint_scores: np.ndarray,
    min_box_area: float = 0.0,
) -> PoseResult:
    """The poses as detected, for people that are already final (a one-stage detector's NMS ran):
    only those smaller than min_box_area are dropped; the person score is the box score."""
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
        ids=[[i] for i in keep],
    )


def _parametric(boxes, keypoints, scores, min_box_area):
    """Greedy picks by mean keypoint score; returns [(pick, merged xy, merged scores, merged ids)]."""
    ref_dists = ALPHA * np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    human_scores = scores.mean(axis=1)
    remaining = np.arange(len(boxes))
    kept = []
    while remaining.size:
        pick = remaining[np.argmax(human_scores[remaining])]
        dist = np.linalg.norm(keypoints[remaining] - keypoints[pick], axis=2)  # (R, K)
        score_term = np.where(
            dist <= 1, np.tanh(scores[pick] / DELTA1) * np.tanh(scores[remaining] / DELTA1), 0
        )
        simi = score_term.sum(axis=1) + MU * np.exp(-dist / DELTA2).sum(axis=1)
        num_match = (dist / min(ref_dists[pick], 7) <= 1).sum(axis=1)
        delete = (simi > GAMMA) | (num_match >= MATCH_THRESHOLD)
        if not delete.any():
            delete = remaining == pick
        merged = remaining[delete]
        remaining = remaining[~delete]
        if scores[pick].max() < SCORE_THRESHOLD:
            continue
        xy, kp_scores = _merge(keypoints[pick], keypoints[merged], scores[merged], min(ref_dists[pick], 15))
        if kp_scores.max() < SCORE_THRESHOLD or _too_small(xy, min_box_area):
            continue
        kept.append((int(pick), xy, kp_scores, merged))
    return kept


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


def _oks(boxes, keypoints, scores, min_box_area):
    """Greedy OKS NMS: keep the best person, drop the others whose OKS with it exceeds 0.9."""
    visible = scores > VIS_THRESHOLD
    person = np.where(
        visible.any(axis=1), (scores * visible).sum(axis=1) / np.maximum(visible.sum(axis=1), 1), 0
    )
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    sigmas = OKS_SIGMAS if keypoints.shape[1] == len(OKS_SIGMAS) else np.full(keypoints.shape[1], 0.08)
    order = np.argsort(-person, kind="stable")
    kept = []
    while order.size:
        pick = order[0]
        d2 = ((keypoints[order] - keypoints[pick]) ** 2).sum(axis=2)
        e = d2 / (2 * (areas[pick] + np.spacing(1)) * (2 * sigmas) ** 2)
        vis = visible[pick]
        oks = np.where(vis.any(), (np.exp(-e) * vis).sum(axis=1) / max(vis.sum(), 1), 0.0)
        duplicate = oks > OKS_THRESHOLD
        duplicate[0] = True
        merged = order[duplicate]
        order = order[~duplicate]
        if scores[pick].max() >= SCORE_THRESHOLD and not _too_small(keypoints[pick], min_box_area):
            kept.append((int(pick), keypoints[pick].copy(), scores[pick].copy(), merged))
    return kept
