"""Pose-guided crops from the trackers' live tracks, merging with detections, ending tracks; the
detection schedule."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.track import build_tracker
from posekit.track.guided import (
    GuidedCrops,
    GuideParams,
    inside_fraction,
    keypoint_boxes,
    merge_crops,
    next_hints,
)
from posekit.track.schedule import DetectionSchedule
from posekit.track.state import LiveTrack
from posekit.types import Detections, PersonHint, PoseResult


def _pose(x0: float, y0: float, w: float = 40.0, h: float = 100.0) -> np.ndarray:
    """17 keypoints spread over the box (x0, y0, x0 + w, y0 + h)."""
    grid = np.stack([np.linspace(0, 1, 17), np.linspace(0, 1, 17) ** 0.5], axis=1)
    return np.array([x0, y0]) + grid * [w, h]


def _result(poses, scores=None) -> PoseResult:
    """The poses with their boxes, and as their alignment points the hip and head points."""
    kps = np.stack(poses)
    sc = np.full(kps.shape[:2], 0.9) if scores is None else np.asarray(scores, float)
    boxes = np.concatenate([kps.min(1), kps.max(1)], axis=1)
    alignment = kps[:, [11, 0]].copy()
    return PoseResult(boxes, np.full(len(kps), 0.9), kps, sc, sc.mean(1), [], alignment=alignment)


def test_keypoint_boxes_use_confident_points_with_margin():
    kps = np.array([[[10.0, 20.0], [30.0, 60.0], [500.0, 500.0]]])
    scores = np.array([[0.9, 0.8, 0.1]])  # the far point is unsure: left out
    boxes, ok = keypoint_boxes(kps, scores, kp_thresh=0.3, margin=0.1, min_keypoints=2)
    np.testing.assert_allclose(boxes, [[8.0, 16.0, 32.0, 64.0]])
    assert ok.tolist() == [True]
    _, ok = keypoint_boxes(kps, scores, kp_thresh=0.3, margin=0.1, min_keypoints=3)
    assert ok.tolist() == [False]


def test_inside_fraction():
    boxes = np.array([[0, 0, 10, 10], [-10, 0, 10, 10], [100, 0, 120, 10], [5, 5, 5, 5]], float)
    np.testing.assert_allclose(inside_fraction(boxes, (100, 50)), [1.0, 0.5, 0.0, 0.0])


def test_next_hints_move_with_the_track_and_drop_people_leaving_or_unsure():
    params = GuideParams(margin=0.0, min_keypoints=3)
    scores = np.full(17, 0.9)
    aligned = np.array([[120.0, 100.0], [120.0, 40.0]])
    walking = LiveTrack(1, np.zeros(4), _pose(100, 50), scores, np.array([5.0, -2.0]), aligned)
    leaving = LiveTrack(2, np.zeros(4), _pose(610, 50), scores, np.array([20.0, 0.0]), aligned)
    unsure = LiveTrack(3, np.zeros(4), _pose(300, 50), np.full(17, 0.1), np.zeros(2), aligned)
    hints, box_scores = next_hints([walking, leaving, unsure], (640, 480), params, frame_step=0.04)
    assert [h.track_id for h in hints] == [1]
    np.testing.assert_allclose([h.box for h in hints], [[105.0, 48.0, 145.0, 148.0]])
    np.testing.assert_allclose(box_scores, [0.9])
    assert hints[0].frame_step == 0.04 and hints[0].alignment_speed is None
    np.testing.assert_allclose(hints[0].alignment, aligned)  # where they were: not moved
    bare = LiveTrack(4, np.zeros(4), _pose(300, 50), scores, np.zeros(2))  # a pose model without alignment
    hints, _ = next_hints([walking, bare], (640, 480), params)
    assert hints[1].track_id == 4 and hints[1].alignment is None


def test_a_detection_overlapping_a_guided_box_joins_its_track():
    """The guided crops come first; a detection overlapping one (IoU >= 0.4) is that track's person and
    adds no crop, the other detections are new people with their detector fields."""
    guided = np.array([[100.0, 100.0, 200.0, 300.0], [400.0, 100.0, 480.0, 300.0]])
    dets = Detections(
        np.array([[105.0, 98.0, 205.0, 305.0], [10.0, 10.0, 60.0, 120.0]], np.float32),
        np.array([0.9, 0.7], np.float32),
        rotations=np.array([12.0, -3.0]),
    )
    tracked = np.array([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]])
    hints = [PersonHint(box, tid, alignment) for box, tid, alignment in zip(guided, [3, 5], tracked)]
    crops, crop_hints = merge_crops(hints, np.array([0.8, 0.6]), dets, merge_iou=0.4)
    np.testing.assert_allclose(crops.boxes, np.concatenate([guided, dets.boxes[1:]]))
    np.testing.assert_allclose(crops.scores, [0.8, 0.6, 0.7], rtol=1e-6)
    np.testing.assert_allclose(crops.rotations, [0.0, 0.0, -3.0])
    assert crop_hints == [*hints, None]  # the pose model may run one pass on the hinted rows
    assert crops.keypoints is None  # a field the detector does not give stays None
    crops, crop_hints = merge_crops(hints, np.array([0.8, 0.6]), None, merge_iou=0.4)
    np.testing.assert_allclose(crops.boxes, guided)
    assert crop_hints == hints
    crops, crop_hints = merge_crops([], np.zeros(0), dets, merge_iou=0.4)
    np.testing.assert_allclose(crops.boxes, dets.boxes)  # nobody tracked yet: every detection
    assert crop_hints == [None, None]


@pytest.mark.parametrize("name", ["oks", "poseflow"])
def test_trackers_expose_their_live_tracks(name):
    tracker = build_tracker(name)
    image = np.full((480, 640, 3), 90, np.uint8)
    first = tracker.update(image, _result([_pose(100, 50), _pose(400, 60)]))
    moved = tracker.update(image, _result([_pose(106, 50), _pose(400, 64)]))
    assert moved.ids == first.ids
    live = {t.tid: t for t in tracker.live_tracks()}
    assert sorted(live) == sorted(moved.ids)
    for n, tid in enumerate(moved.ids):
        np.testing.assert_allclose(live[tid].keypoints, moved.keypoints[n])
        np.testing.assert_allclose(live[tid].scores, moved.keypoint_scores[n])
        np.testing.assert_allclose(live[tid].alignment, moved.alignment[n])
        assert live[tid].box[0] <= moved.keypoints[n][:, 0].min() + 1
    step = {tid: live[tid].velocity for tid in moved.ids}
    assert step[moved.ids[0]][0] > 0 and abs(step[moved.ids[0]][1]) < 1.0
    assert step[moved.ids[1]][1] > 0 and abs(step[moved.ids[1]][0]) < 1.0
    tracker.update(image, _result([_pose(112, 50)]))  # the second person is gone
    assert [t.tid for t in tracker.live_tracks()] == [moved.ids[0]]


def test_guided_crops_follow_the_trackers_state_and_end_unsure_poses():
    tracker = build_tracker("oks")
    image = np.full((480, 640, 3), 90, np.uint8)
    tracker.update(image, _result([_pose(100, 50)]))
    guide = GuidedCrops(tracker, GuideParams(margin=0.0))
    crops, hints = guide.plan((640, 480), None)
    np.testing.assert_allclose(crops.boxes, [[100.0, 50.0, 140.0, 150.0]])
    assert [h is not None for h in hints] == [True]
    keep = guide.keep(np.array([np.full(17, 0.1), np.full(17, 0.1)]), np.array([True, False]))
    assert keep.tolist() == [False, True]  # an unsure guided pose ends; a detected one stays


def test_detection_schedule_interval_first_frame_and_scene_cut():
    rng = np.random.default_rng(0)
    dark = rng.integers(0, 60, (120, 160, 3), dtype=np.uint8)
    bright = rng.integers(180, 255, (120, 160, 3), dtype=np.uint8)
    schedule = DetectionSchedule(interval=3)
    frames = [dark] * 5 + [bright] * 4
    assert [schedule(f) for f in frames] == [True, False, False, True, False, True, False, False, True]
    every = DetectionSchedule(interval=1)
    assert all(every(f) for f in frames)


def test_scene_cut_between_real_videos_and_none_within_a_clip(posetrack_mini):
    """Consecutive frames of the posetrack18-mini clip are one scene; a frame of another PoseTrack video
    after them is a cut (the detector runs on it although the interval has not elapsed)."""
    from posekit.io.images import read_image_rgb

    clip = [read_image_rgb(posetrack_mini / f"videos/000001_mpiinew_test/{k:06d}.jpg") for k in range(5)]
    others = sorted((posetrack_mini / "images" / "val").rglob("*.jpg"))
    schedule = DetectionSchedule(interval=100)
    assert [schedule(f) for f in clip] == [True, False, False, False, False]
    assert schedule(read_image_rgb(others[0])) is True
    assert schedule(read_image_rgb(others[0])) is False
