"""Tracking metrics (MOTA, IDF1, identity switches) with motmetrics, matching by box IoU or OKS."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from posekit.errors import PosekitError
from posekit.geometry import box_iou
from posekit.track.oks import oks_matrix
from posekit.types import PoseResult

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


def tracking_metrics(
    ground_truth: Sequence[PoseResult],
    hypotheses: Sequence[PoseResult],
    match: str = "iou",
    threshold: float = 0.5,
) -> dict[str, float]:
    """MOTA, IDF1, ID switches, false positives, misses and gt count over a sequence (ids from `.ids`)."""
    import motmetrics as mm

    if len(ground_truth) != len(hypotheses):
        raise PosekitError(f"{len(ground_truth)} ground-truth frames but {len(hypotheses)} tracked frames")
    acc = mm.MOTAccumulator(auto_id=True)
    for gt, hyp in zip(ground_truth, hypotheses):
        acc.update(list(gt.ids), list(hyp.ids), distance_matrix(gt, hyp, match, threshold))
    summary = mm.metrics.create().compute(acc, metrics=list(METRICS), name="seq")
    return {name: float(summary[name].iloc[0]) for name in METRICS}
