"""PoseFlow on crowds: the keypoint terms are computed on candidate pairs only, with exactly the values of
their definition, so memory grows with the pairs that can score instead of (people x keypoints)^2."""

from __future__ import annotations

import tracemalloc

import numpy as np

from posekit.track.poseflow import (
    PoseFlowTracker,
    box_iou,
    candidate_pairs,
    identity_iou,
    identity_pose_iou,
    keypoint_squares,
    pose_iou,
)
from posekit.types import PoseResult


def _crowd(rng, people: int, spread: float = 900.0) -> tuple[np.ndarray, np.ndarray]:
    centers = rng.uniform(0, spread, (people, 1, 2))
    kps = centers + rng.normal(0, 25, (people, 17, 2))
    valid = rng.random((people, 17)) > 0.25
    valid[0] = False  # a person with no valid keypoint
    return kps, valid


def _by_definition(kps1, valid1, kps2, valid2, num, mag, iou) -> np.ndarray:
    """For every pair: IoU of the squares of the same keypoint (each keypoint k separately through the
    all-boxes `iou`), invalid ones 0, mean of the `num` largest."""
    per_kp = np.stack(
        [np.diag(iou(keypoint_squares(kps1[[i]], mag)[0], keypoint_squares(kps2[[j]], mag)[0]))
         for i in range(len(kps1)) for j in range(len(kps2))]
    ).reshape(len(kps1), len(kps2), -1) * (valid1[:, None, :] & valid2[None, :, :])  # fmt: skip
    return -np.sort(-per_kp, axis=-1)[..., :num].mean(axis=-1)


def test_keypoint_terms_equal_their_definition_on_a_crowd():
    rng = np.random.default_rng(3)
    kps1, valid1 = _crowd(rng, 40, spread=400)
    kps2, valid2 = _crowd(rng, 35, spread=400)
    rows, _ = candidate_pairs(kps1, valid1, kps2, valid2, 30.0)
    assert 0 < len(rows) < 40 * 35  # some pairs are candidates, not all
    np.testing.assert_array_equal(
        pose_iou(kps1, valid1, kps2, valid2, 7, 30.0),
        _by_definition(kps1, valid1, kps2, valid2, 7, 30.0, box_iou),
    )
    size = (420, 400)
    np.testing.assert_array_equal(
        identity_pose_iou(kps1, valid1, kps2, valid2, 7, 30.0, size),
        _by_definition(kps1, valid1, kps2, valid2, 7, 30.0, lambda a, b: identity_iou(a, b, size)),
    )


def test_a_crowd_of_300_tracks_in_bounded_memory_with_stable_ids():
    rng = np.random.default_rng(0)
    people = 300
    kps, valid = _crowd(rng, people, spread=1800)
    valid[0] = True
    tracker = PoseFlowTracker()
    tracemalloc.start()
    try:
        for t in range(3):
            moved = kps + 2.0 * t
            boxes = np.concatenate([moved.min(1), moved.max(1)], axis=1)
            result = PoseResult(boxes, np.ones(people), moved, np.where(valid, 0.9, 0.0), np.ones(people), [])
            ids = tracker.update(None, result).ids  # no image: the identity fallback terms
            assert ids == list(range(1, people + 1))  # everyone keeps the id of the first frame
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # all pairs needed (300*17)^2 float64 arrays, 208 MB each, several at once; candidate pairs stay small
    assert peak < 60e6, peak
