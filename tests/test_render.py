"""draw_poses: AlphaPose's neck, limbs and colours; the region blend equals the full-image blend."""

from __future__ import annotations

import math
import time

import cv2
import numpy as np

from posekit.render.draw import draw_poses, track_color, with_neck
from posekit.skeleton import LIMB_COLORS_BGR, POINT_COLORS_BGR, RENDER_LIMBS, TRACK_COLORS_BGR
from posekit.types import PoseResult


def _person(rng: np.random.Generator, w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    center = rng.uniform([0.1 * w, 0.1 * h], [0.9 * w, 0.9 * h])
    keypoints = center + rng.normal(0, 0.15 * min(w, h), size=(17, 2))
    scores = rng.uniform(0.0, 1.0, size=17)
    return keypoints, scores


def _result(n: int, w: int = 320, h: int = 240, seed: int = 0, ids=None) -> PoseResult:
    rng = np.random.default_rng(seed)
    people = [_person(rng, w, h) for _ in range(n)]
    kps = np.stack([p[0] for p in people]) if people else np.zeros((0, 17, 2))
    scs = np.stack([p[1] for p in people]) if people else np.zeros((0, 17))
    boxes = np.concatenate([kps.min(axis=1), kps.max(axis=1)], axis=1) if n else np.zeros((0, 4))
    return PoseResult(boxes, np.ones(n), kps, scs, np.ones(n), ids if ids is not None else [[0.0]] * n)


def _reference_vis_frame(img: np.ndarray, result: PoseResult, thresh: float = 0.4) -> np.ndarray:
    """AlphaPose's vis_frame semantics written plainly: every element blended over a full-image copy."""
    img = img.copy()
    for kps, scs in zip(result.keypoints, result.keypoint_scores):
        kps, scs = with_neck(kps, scs)
        part = {}
        for n in range(len(scs)):
            if scs[n] <= thresh:
                continue
            part[n] = (int(kps[n, 0]), int(kps[n, 1]))
            bg = img.copy()
            cv2.circle(bg, part[n], 2, POINT_COLORS_BGR[n], -1)
            a = float(np.clip(scs[n], 0, 1))
            img = cv2.addWeighted(bg, a, img, 1 - a, 0)
        for i, (s, e) in enumerate(RENDER_LIMBS):
            if s in part and e in part:
                bg = img.copy()
                mx, my = (kps[s, 0] + kps[e, 0]) / 2, (kps[s, 1] + kps[e, 1]) / 2
                length = math.hypot(kps[s, 0] - kps[e, 0], kps[s, 1] - kps[e, 1])
                angle = math.degrees(math.atan2(kps[s, 1] - kps[e, 1], kps[s, 0] - kps[e, 0]))
                width = scs[s] + scs[e] + 1
                poly = cv2.ellipse2Poly(
                    (int(mx), int(my)), (int(length / 2), int(width)), int(angle), 0, 360, 1
                )
                cv2.fillConvexPoly(bg, poly, LIMB_COLORS_BGR[i])
                a = float(np.clip(0.5 * (scs[s] + scs[e]) - 0.1, 0, 1))
                img = cv2.addWeighted(bg, a, img, 1 - a, 0)
    return img


def test_blended_drawing_equals_full_image_blend():
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(240, 320, 3), dtype=np.uint8)
    before = image.copy()
    result = _result(4, seed=3)
    ours = draw_poses(image, result)
    assert np.array_equal(ours, _reference_vis_frame(image, result))
    assert (ours != image).any(axis=2).sum() > 200
    assert np.array_equal(image, before)  # the input is left untouched


def test_points_off_image_and_empty_result_are_fine():
    image = np.zeros((50, 60, 3), np.uint8)
    result = _result(1, w=60, h=50)
    result.keypoints[0] += 500  # every point far outside the image
    result.keypoint_scores[0] = 0.9
    assert np.array_equal(draw_poses(image, result), image)
    assert np.array_equal(draw_poses(image, PoseResult.empty()), image)


def test_fast_drawing_colours_and_threshold():
    image = np.zeros((100, 100, 3), np.uint8)
    kps = np.zeros((1, 17, 2))
    scores = np.zeros((1, 17))
    kps[0, 0] = (20, 20)  # nose, visible
    kps[0, 1] = (80, 80)  # left eye, below the threshold
    scores[0, 0], scores[0, 1] = 0.9, 0.39
    result = PoseResult(np.array([[0, 0, 99, 99.0]]), np.ones(1), kps, scores, np.ones(1), [[0.0]])
    out = draw_poses(image, result, fast=True)
    assert tuple(out[20, 20]) == POINT_COLORS_BGR[0]
    assert tuple(out[80, 80]) == (0, 0, 0)
    scores[0, 1] = 0.41  # now the nose-eye limb is drawn too
    out = draw_poses(image, result, fast=True)
    assert tuple(out[50, 50]) == LIMB_COLORS_BGR[0]
    assert tuple(out[83, 80]) == POINT_COLORS_BGR[1]  # beside the limb, which is drawn over the points


def test_tracking_colours_and_box():
    image = np.zeros((120, 160, 3), np.uint8)
    result = _result(2, w=160, h=120, seed=5, ids=[3, 9])
    result.keypoint_scores[:] = 0.95
    out = draw_poses(image, result, fast=True, tracking=True)
    colours = {tuple(c) for c in out.reshape(-1, 3)} - {(0, 0, 0)}
    assert colours <= {TRACK_COLORS_BGR[3], TRACK_COLORS_BGR[1]}
    assert track_color(3) == TRACK_COLORS_BGR[3] and track_color(9) == TRACK_COLORS_BGR[1]
    result.boxes[:] = [[10, 10, 150, 110], [20, 20, 140, 100]]
    out = draw_poses(np.zeros_like(image), result, tracking=True, show_box=True, kp_thresh=1.0)
    assert tuple(out[10, 80]) == TRACK_COLORS_BGR[3] and tuple(out[20, 80]) == TRACK_COLORS_BGR[1]
    out = draw_poses(np.zeros_like(image), result, show_box=True, kp_thresh=1.0)
    assert tuple(out[10, 80]) == (255, 0, 0)


def test_blended_drawing_is_cheap_on_a_large_frame():
    image = np.zeros((1080, 1920, 3), np.uint8)
    result = _result(10, w=1920, h=1080, seed=7)
    result.keypoint_scores[:] = 0.9
    start = time.perf_counter()
    for _ in range(3):
        draw_poses(image, result)
    per_frame = (time.perf_counter() - start) / 3
    # A full-image blend per element would cost ~10 people x 33 elements x a 6 MB copy (seconds).
    assert per_frame < 0.25, per_frame


def test_absurd_coordinates_are_not_drawn_and_never_reach_opencv():
    """A diverged model or a hand-edited json gives 1e300, inf or nan: none of it is drawn (OpenCV's
    int coordinates would overflow), a box is clipped just outside the image, the other people are drawn."""
    image = np.zeros((60, 80, 3), np.uint8)
    result = _result(2, w=80, h=60, seed=4, ids=[3, 5])
    result.keypoint_scores[:] = 0.9
    other = PoseResult(*(np.asarray(field)[1:] for field in (result.boxes, result.box_scores,
                         result.keypoints, result.keypoint_scores, result.scores)), [5])  # fmt: skip
    result.keypoints[0] = [[1e300, -1e300]] * 9 + [[np.inf, 3.0], [np.nan, 4.0]] + [[1e300, 1e300]] * 6
    result.boxes[0] = [-1e300, -1e300, 1e300, 1e300]
    for fast in (True, False):
        drawn = draw_poses(image, result, fast=fast, tracking=True)
        assert np.array_equal(drawn, draw_poses(image, other, fast=fast, tracking=True))
        assert (drawn != image).any()
    boxed = draw_poses(image, result, fast=True, show_box=True)
    changed = (boxed != draw_poses(image, other, fast=True, show_box=True)).any(axis=2)
    assert not changed[2:-2, 2:-2].any()  # the huge box, clipped just outside the image, covers nothing
    assert draw_poses(image, result, fast=True, show_box=True, tracking=True).shape == image.shape
