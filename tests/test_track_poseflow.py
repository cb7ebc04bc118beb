"""PoseFlow's terms against plain set/loop definitions, ORB correspondences on real frames, matching files."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from posekit.io.images import read_image_rgb
from posekit.track.poseflow import (
    WEIGHTS_CONSECUTIVE,
    OrbCorrespondences,
    PoseFlowTracker,
    box_iou,
    dm_iou,
    identity_iou,
    identity_pose_iou,
    pose_boxes,
    pose_iou,
    pose_iou_dm,
)
from posekit.types import PoseResult

RNG = np.random.default_rng(7)


def test_pose_boxes_follow_get_box() -> None:
    kps = np.array([[[10.0, 20.0], [110.0, 220.0], [60.0, 100.0]]])
    box = pose_boxes(kps, np.ones((1, 3), bool), (100, 300))
    # w 100, h 200 -> 10 % each side: x 0..120 clipped to 100, y 0..240; ints
    assert box.tolist() == [[0, 100, 0, 240]]
    # a keypoint with score 0 (unlabelled, at 0,0) is left out
    kps2 = np.array([[[0.0, 0.0], [50.0, 50.0], [150.0, 250.0]]])
    assert pose_boxes(kps2, np.array([[False, True, True]]), None).tolist() == [[40, 160, 30, 270]]


def _box_iou_loop(a, b) -> float:
    x0, x1, y0, y1 = max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3])
    if not (x0 < x1 and y0 < y1):
        return 0.0
    inter = (x1 - x0 + 1) * (y1 - y0 + 1)
    return inter / ((a[1] - a[0] + 1) * (a[3] - a[2] + 1) + (b[1] - b[0] + 1) * (b[3] - b[2] + 1) - inter)


def _random_boxes(n: int) -> np.ndarray:
    x0, y0 = RNG.uniform(0, 80, (2, n))
    w, h = RNG.uniform(5, 60, (2, n))
    return np.stack([x0, x0 + w, y0, y0 + h], axis=1)


def test_box_iou_equals_the_plus_one_definition() -> None:
    a, b = _random_boxes(6), _random_boxes(5)
    expected = [[_box_iou_loop(p, q) for q in b] for p in a]
    np.testing.assert_allclose(box_iou(a, b), expected, rtol=1e-12)
    assert box_iou(np.array([[0, 9, 0, 9]]), np.array([[5, 14, 0, 9]]))[0, 0] == pytest.approx(50 / 150)


def _region(points, box) -> set[int]:
    return {i for i, (x, y) in enumerate(points) if box[0] <= x <= box[1] and box[2] <= y <= box[3]}


def _set_iou(cors, box1, box2) -> float:
    r1, r2 = _region(cors[:, :2], box1), _region(cors[:, 2:4], box2)
    return len(r1 & r2) / (len(r1 | r2) + 1e-5)


def _squares(kps, mag):
    return [[x - mag, x + mag, y - mag, y + mag] for x, y in kps]


def test_correspondence_terms_equal_the_set_definitions() -> None:
    pts = RNG.uniform(0, 140, (400, 2))
    cors = np.concatenate([pts, pts + RNG.normal(3, 2, pts.shape), np.zeros((400, 1))], axis=1)
    b1, b2 = _random_boxes(4), _random_boxes(3)
    expected = [[_set_iou(cors, p, q) for q in b2] for p in b1]
    np.testing.assert_allclose(dm_iou(cors, b1, b2), expected, rtol=1e-5, atol=1e-6)

    k1, k2 = RNG.uniform(20, 120, (3, 17, 2)), RNG.uniform(20, 120, (2, 17, 2))
    v1, v2 = np.ones((3, 17), bool), np.ones((2, 17), bool)
    v1[0, :5] = False
    got = pose_iou_dm(cors, k1, v1, k2, v2, num=7, mag=30)
    got_plain = pose_iou(k1, v1, k2, v2, num=7, mag=30)
    for n in range(3):
        for m in range(2):
            per_dm = [
                _set_iou(cors, s1, s2) if v1[n, k] else 0.0
                for k, (s1, s2) in enumerate(zip(_squares(k1[n], 30), _squares(k2[m], 30)))
            ]
            per_box = [
                _box_iou_loop(s1, s2) if v1[n, k] else 0.0
                for k, (s1, s2) in enumerate(zip(_squares(k1[n], 30), _squares(k2[m], 30)))
            ]
            assert got[n, m] == pytest.approx(np.mean(sorted(per_dm)[-7:]), abs=1e-5)
            assert got_plain[n, m] == pytest.approx(np.mean(sorted(per_box)[-7:]), abs=1e-9)


def test_identity_fallback_equals_one_correspondence_per_pixel() -> None:
    w, h = 50, 40
    ys, xs = np.mgrid[0:h, 0:w]
    grid = np.stack([xs.ravel(), ys.ravel()], axis=1).astype(float)
    cors = np.concatenate([grid, grid, np.ones((len(grid), 1))], axis=1)  # AlphaPose's fallback file
    b1 = np.array([[3.5, 30.2, 5.0, 33.0], [-10, 20, -5, 12], [40, 70, 30, 60]])
    b2 = np.array([[10.0, 44.9, 0.0, 25.5], [0, 49, 0, 39]])
    np.testing.assert_allclose(identity_iou(b1, b2, (w, h)), dm_iou(cors, b1, b2), rtol=1e-6)
    k1, k2 = RNG.uniform(0, 50, (2, 17, 2)), RNG.uniform(0, 50, (1, 17, 2))
    v1, v2 = np.ones((2, 17), bool), np.ones((1, 17), bool)
    np.testing.assert_allclose(
        identity_pose_iou(k1, v1, k2, v2, 7, 8.0, (w, h)),
        pose_iou_dm(cors, k1, v1, k2, v2, 7, 8.0),
        rtol=1e-5,
    )


@pytest.fixture(scope="module")
def real_frame(posetrack_mini) -> np.ndarray:
    return read_image_rgb(posetrack_mini / "videos" / "000001_mpiinew_test" / "000000.jpg")


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_orb_on_a_translated_real_frame_gives_the_translation(real_frame, scale) -> None:
    dx, dy = 17, -9
    h, w = real_frame.shape[:2]
    moved = cv2.warpAffine(real_frame, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h))
    orb = OrbCorrespondences(nfeatures=1500, scale=scale)
    cors = orb.match(orb.features(real_frame), orb.features(moved))
    assert len(cors) > 300
    shift = cors[:, 2:4] - cors[:, 0:2]
    assert np.median(shift, axis=0) == pytest.approx([dx, dy], abs=0.6)
    inliers = np.linalg.norm(shift - [dx, dy], axis=1) < 2.5 / scale
    assert inliers.mean() > 0.9


def test_orb_between_consecutive_real_frames(posetrack_mini) -> None:
    folder = posetrack_mini / "videos" / "000001_mpiinew_test"
    frames = [read_image_rgb(folder / f"{i:06d}.jpg") for i in range(2)]
    orb = OrbCorrespondences()
    cors = orb.match(orb.features(frames[0]), orb.features(frames[1]))
    assert len(cors) > 100
    motion = np.linalg.norm(cors[:, 2:4] - cors[:, :2], axis=1)
    assert np.median(motion) < 5.0  # consecutive video frames: most points barely move


def _person(x: float, y: float) -> np.ndarray:
    return np.array([[x + dx, y + dy] for dx, dy in RNG.uniform(0, 80, (17, 2))])


def test_save_matching_writes_the_seed_files(tmp_path, real_frame) -> None:
    kps = np.stack([_person(300, 200), _person(700, 300)])
    result = PoseResult(
        boxes=np.zeros((2, 4)),
        box_scores=np.ones(2),
        keypoints=kps,
        keypoint_scores=np.ones((2, 17)),
        scores=np.ones(2),
    )
    tracker = PoseFlowTracker(save_matching=tmp_path / "poseflow" / "matching")
    h, w = real_frame.shape[:2]
    ids = []
    for t in range(3):
        moved = cv2.warpAffine(real_frame, np.float32([[1, 0, 4 * t], [0, 1, 0]]), (w, h))
        shifted = PoseResult(**{**result.__dict__, "keypoints": kps + np.array([4 * t, 0])})
        ids.append(tracker.update(moved, shifted).ids)
        if t:
            saved = np.loadtxt(tmp_path / "poseflow" / "matching" / f"{t - 1}_{t}_orb.txt")
            assert saved.shape == tracker.last_correspondences.shape
            np.testing.assert_allclose(saved[:, 4], tracker.last_correspondences[:, 4], atol=1e-6)
            np.testing.assert_array_equal(saved[:, :4], np.trunc(tracker.last_correspondences[:, :4]))
    assert ids == [[1, 2], [1, 2], [1, 2]]
    assert sorted(p.name for p in (tmp_path / "poseflow" / "matching").iterdir()) == [
        "0_1_orb.txt",
        "1_2_orb.txt",
    ]


def _record_grades(tracker: PoseFlowTracker) -> list:
    """Make `tracker` keep every (track ids, grades) its update computes; returns that list."""
    seen, grades = [], tracker.grades

    def recording(*args):
        seen.append(grades(*args))
        return seen[-1]

    tracker.grades = recording
    return seen


def test_a_frame_without_people_is_no_previous_frame(tmp_path, real_frame) -> None:
    """AlphaPose's writer never hands PoseFlow a frame without people (facts §13), so across such a frame
    the last frame with people is "the previous frame": full weights [1,2,1,2] and ORB matches between
    the two frames with people; the result equals a run on the frames with people alone."""
    kps = np.stack([_person(300, 200), _person(700, 300)])
    h, w = real_frame.shape[:2]
    frames = []
    for t, people in enumerate([True, False, True]):
        image = cv2.warpAffine(real_frame, np.float32([[1, 0, 4 * t], [0, 1, 0]]), (w, h))
        moved = kps + np.array([4.0 * t, 0.0])
        result = PoseResult(np.zeros((2, 4)), np.ones(2), moved, np.ones((2, 17)), np.ones(2))
        frames.append((image, result if people else PoseResult.empty(17)))
    runs = {}
    for name, sequence in {"with gap": frames, "alphapose view": [frames[0], frames[2]]}.items():
        tracker = PoseFlowTracker(save_matching=tmp_path / name)
        seen = _record_grades(tracker)
        ids = [tracker.update(image, result).ids for image, result in sequence]
        runs[name] = (ids, seen[-1][1], tracker.last_correspondences)
    ids, grade, cors = runs["with gap"]
    assert ids == [[1, 2], [], [1, 2]]
    assert runs["alphapose view"][0] == [[1, 2], [1, 2]]
    np.testing.assert_allclose(grade, runs["alphapose view"][1])
    np.testing.assert_array_equal(cors, runs["alphapose view"][2])
    assert np.median(cors[:, 2:4] - cors[:, :2], axis=0) == pytest.approx([8, 0], abs=0.6)  # frame 0 -> 2
    assert sorted(p.name for p in (tmp_path / "with gap").iterdir()) == ["0_2_orb.txt"]
    boxes = [pose_boxes(r.keypoints, r.keypoint_scores > 0, (w, h)) for _, r in (frames[0], frames[2])]
    valid, after = np.ones((2, 17), bool), frames[2][1].keypoints
    terms = [
        dm_iou(cors, boxes[0], boxes[1]),
        box_iou(boxes[0], boxes[1]),
        pose_iou_dm(cors, kps, valid, after, valid, 7, 30.0),
        pose_iou(kps, valid, after, valid, 7, 30.0),
    ]
    expected = sum(weight * term for weight, term in zip(WEIGHTS_CONSECUTIVE, terms))
    np.testing.assert_allclose(grade, expected, rtol=1e-6)
