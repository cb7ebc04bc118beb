"""Tracking metrics (MOTA, IDF1, identity switches) with motmetrics, matching by box IoU or OKS."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from posekit.errors import PosekitError
from posekit.geometry import box_iou
from posekit.track.oks import oks_matrix
from posekit.types import PoseResult

# A hypothesis box at least this much inside an ignore region, matching nobody, is not counted.
IGNORE_INSIDE = 0.5
METRICS = ("mota", "idf1", "num_switches", "num_false_positives", "num_misses", "num_objects")


def distance_matrix(
    gt: PoseResult, hyp: PoseResult, match: str = "iou", threshold: float = 0.5
) -> np.ndarray:
    """1 - similarity between gt and hypothesis people (G, H); NaN where similarity < threshold."""
    if len(gt) == 0 or len(hyp) == 0:
        return np.full((len(gt), len(hyp)), np.nan)
    gb, hb = np.asarray(gt.boxes, float), np.asarray(hyp.boxes, float)
    if match == "iou":
        sim = box_iou(gb, hb)
    elif match == "oks":
        areas = (gb[:, 2] - gb[:, 0]) * (gb[:, 3] - gb[:, 1]) * 0.53  # box area -> approx. segment area
        gv = np.asarray(gt.keypoint_scores) > 0
        hv = np.ones(np.asarray(hyp.keypoints).shape[:2], dtype=bool)
        sim = oks_matrix(np.asarray(gt.keypoints, float), gv, np.asarray(hyp.keypoints, float), hv, areas)
    else:
        raise PosekitError(f"unknown matching {match!r}; use 'iou' or 'oks'")
    return np.where(sim >= threshold, 1.0 - sim, np.nan)


def ignored(gt: PoseResult, hyp: PoseResult, mask: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """(H,) True for the hypotheses an ignore region takes out of the count: at least IGNORE_INSIDE of
    the box inside the region mask (h, w) and no ground-truth box overlapping it by IoU >= threshold (as
    PoseTrack21's box MOT evaluation, by intersection over the hypothesis box's own area)."""
    boxes = np.asarray(hyp.boxes, dtype=np.float64).reshape(-1, 4)
    h, w = mask.shape
    out = np.zeros(len(boxes), dtype=bool)
    overlap = box_iou(boxes, np.asarray(gt.boxes, float).reshape(-1, 4)) if len(gt) else None
    for i, (x0, y0, x1, y1) in enumerate(np.round(boxes).astype(int)):
        (x0, x1), (y0, y1) = np.clip([x0, x1], 0, w), np.clip([y0, y1], 0, h)
        if x1 <= x0 or y1 <= y0 or (overlap is not None and overlap[i].max() >= threshold):
            continue
        out[i] = mask[y0:y1, x0:x1].mean() >= IGNORE_INSIDE
    return out


def tracking_metrics(
    ground_truth: Sequence[PoseResult],
    hypotheses: Sequence[PoseResult],
    match: str = "iou",
    threshold: float = 0.5,
    ignore_masks: Sequence[np.ndarray] | None = None,
) -> dict[str, float]:
    """MOTA, IDF1, ID switches, false positives, misses and gt count over a sequence (ids from `.ids`);
    with ignore_masks (one (h, w) bool mask per frame) the hypotheses `ignored` there are not counted."""
    import motmetrics as mm

    if len(ground_truth) != len(hypotheses):
        raise PosekitError(f"{len(ground_truth)} ground-truth frames but {len(hypotheses)} tracked frames")
    acc = mm.MOTAccumulator(auto_id=True)
    for t, (gt, hyp) in enumerate(zip(ground_truth, hypotheses)):
        if ignore_masks is not None and len(hyp):
            hyp = hyp.select(~ignored(gt, hyp, ignore_masks[t], threshold))
        acc.update(list(gt.ids), list(hyp.ids), distance_matrix(gt, hyp, match, threshold))
    summary = mm.metrics.create().compute(acc, metrics=list(METRICS), name="seq")
    return {name: float(summary[name].iloc[0]) for name in METRICS}
