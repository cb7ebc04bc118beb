"""draw_poses: AlphaPose's neck, limbs, colours and score threshold; track ids; the region blend equals
the full-image blend."""

from __future__ import annotations

import dataclasses
import math
import time

import cv2
import numpy as np

from posekit.render.draw import DEFAULT_KP_THRESH, draw_poses, id_label, track_color, with_neck
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


def test_threshold_is_alphaposes_and_hides_limbs_with_a_hidden_end():
    """Fast drawing, exact pixels: a keypoint is drawn only when its score is above 0.4 (AlphaPose's
    vis_thres; 0.4 itself is not), a limb only when both ends are; the expected image is drawn by hand."""
    assert DEFAULT_KP_THRESH == 0.4
    image = np.zeros((100, 100, 3), np.uint8)
    above = float(np.nextafter(0.4, 1.0))
    # nose, left eye at exactly 0.4, right eye just above, left ear below
    result = _one_person({0: (20, 20, 0.9), 1: (80, 20, 0.4), 2: (20, 80, above), 3: (80, 80, 0.39)})
    expected = image.copy()
    cv2.circle(expected, (20, 20), 3, POINT_COLORS_BGR[0], -1)
    cv2.circle(expected, (20, 80), 3, POINT_COLORS_BGR[2], -1)
    cv2.line(expected, (20, 20), (20, 80), LIMB_COLORS_BGR[1], 2 * int(0.9 + above) + 1)  # nose-right eye
    assert np.array_equal(draw_poses(image, result, fast=True), expected)


def test_the_neck_has_the_shoulders_mean_score_and_the_same_threshold():
    """Left shoulder 0.9, right shoulder 0.3 (hidden): the neck (0.6) is drawn, and so is the neck-left
    hip limb; the shoulder-shoulder and shoulder-elbow (0.2) limbs are not."""
    image = np.zeros((100, 100, 3), np.uint8)
    result = _one_person({5: (40, 40, 0.9), 6: (80, 40, 0.3), 7: (30, 60, 0.2), 11: (45, 90, 0.9)})
    expected = image.copy()
    for joint, xy in ((5, (40, 40)), (11, (45, 90)), (17, (60, 40))):
        cv2.circle(expected, xy, 3, POINT_COLORS_BGR[joint], -1)
    cv2.line(expected, (60, 40), (45, 90), LIMB_COLORS_BGR[9], 2 * int(0.6 + 0.9) + 1)
    assert np.array_equal(draw_poses(image, result, fast=True), expected)


def test_blended_drawing_hides_the_same_points_and_limbs():
    image = np.zeros((100, 100, 3), np.uint8)
    result = _one_person({0: (20, 20, 0.9), 1: (80, 20, 0.4), 2: (20, 80, 0.8), 3: (80, 80, 0.39)})
    changed = (draw_poses(image, result) != image).any(axis=2)
    # the nose, the right eye and the ellipse between them (half-width 0.9 + 0.8 + 1 = 2.7 -> 2 px)
    assert changed[17:24, 17:24].any() and changed[50, 18:23].all()
    assert changed[:, 25:].sum() == 0  # nothing towards the hidden left eye and ear, nor between them


def test_float32_scores_of_exactly_0_4_are_not_drawn():
    """AlphaPose compares float32 scores with 0.4 in float32: float32(0.4) is not above it."""
    image = np.zeros((50, 50, 3), np.uint8)
    for dtype in (np.float32, np.float64):
        result = _one_person({0: (25, 25, 0.4)})
        result = dataclasses.replace(result, keypoint_scores=result.keypoint_scores.astype(dtype))
        for fast in (True, False):
            assert np.array_equal(draw_poses(image, result, fast=fast), image)
        result.keypoint_scores[0, 0] = np.nextafter(dtype(0.4), dtype(1.0))
        assert tuple(draw_poses(image, result, fast=True)[25, 25]) == POINT_COLORS_BGR[0]


def _label_area(text: str, anchor: tuple[int, int], centered: bool) -> tuple[slice, slice]:
    """Rows and columns of a track-id label's chip: OpenCV's text size at scale 0.6 and thickness 2,
    plus 2 px of padding around it, its bottom 4 px above the anchor (its middle or its left end there)."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2)
    chip_w, chip_h = w + 4, h + base + 4
    x = anchor[0] - chip_w // 2 if centered else anchor[0]
    top = anchor[1] - 4 - chip_h
    return slice(top, top + chip_h), slice(x, x + chip_w)


def _one_person(
    points: dict[int, tuple[float, float, float]], box=(0.0, 0.0, 1.0, 1.0), ids=None
) -> PoseResult:
    """A COCO-17 person with the given {joint: (x, y, score)}; every other joint scores 0."""
    kps, scores = np.zeros((1, 17, 2)), np.zeros((1, 17))
    for joint, (x, y, score) in points.items():
        kps[0, joint], scores[0, joint] = (x, y), score
    return PoseResult(np.array([box]), np.ones(1), kps, scores, np.ones(1), ids or [[0.0]])


def test_tracking_colours_and_box():
    image = np.zeros((120, 160, 3), np.uint8)
    result = _result(2, w=160, h=120, seed=5, ids=[3, 9])
    result.keypoint_scores[:] = 0.95
    out = draw_poses(image, result, fast=True, tracking=True)
    for person in range(2):  # the labels aside, each person is drawn in their track's colour only
        kps, _ = with_neck(result.keypoints[person], result.keypoint_scores[person])
        top = min(((int(x), int(y)) for x, y in kps), key=lambda xy: xy[1])
        out[_label_area(str(result.ids[person]), top, centered=True)] = 0
    colours = {tuple(c) for c in out.reshape(-1, 3)} - {(0, 0, 0)}
    assert colours == {TRACK_COLORS_BGR[3], TRACK_COLORS_BGR[1]}
    assert track_color(3) == TRACK_COLORS_BGR[3] and track_color(9) == TRACK_COLORS_BGR[1]
    result.boxes[:] = [[10, 10, 150, 110], [20, 20, 140, 100]]
    out = draw_poses(np.zeros_like(image), result, tracking=True, show_box=True, kp_thresh=1.0)
    assert tuple(out[10, 80]) == TRACK_COLORS_BGR[3] and tuple(out[20, 80]) == TRACK_COLORS_BGR[1]
    out = draw_poses(np.zeros_like(image), result, show_box=True, kp_thresh=1.0)
    assert tuple(out[10, 80]) == (255, 0, 0)


def test_tracked_people_are_labelled_with_their_id_without_showbox():
    """With tracking the id is written above the highest drawn keypoint (the nose here), in the track's
    colour; nothing else changes. Id 8 has the colour of the untracked placeholder, so the two drawings
    differ by the label alone."""
    image = np.full((120, 160, 3), 40, np.uint8)
    points = {0: (80, 50, 0.9), 5: (60, 70, 0.9), 6: (100, 70, 0.9), 11: (65, 105, 0.9), 12: (95, 105, 0.9)}
    plain = draw_poses(image, _one_person(points), tracking=True)
    widths = []
    for track_id in (8, 16, 24):  # all of colour 0; their labels differ in width
        labelled = draw_poses(image, _one_person(points, ids=[track_id]), tracking=True)
        changed = (labelled != plain).any(axis=2)
        area = np.zeros_like(changed)
        area[_label_area(str(track_id), (80, 50), centered=True)] = True
        assert np.array_equal(changed, area)  # exactly the chip changed: nothing else moved
        chip = labelled[area]
        chip_colour = (chip == TRACK_COLORS_BGR[0]).all(axis=1)
        assert chip_colour.mean() > 0.5 and (chip[~chip_colour].max(axis=1) < 255).all()  # + dark text
        widths.append(area.any(axis=0).sum())
    assert widths[0] < widths[1] == widths[2]  # one digit, then two
    assert id_label(8) == "8" and id_label(np.int64(24)) == "24"
    assert id_label([[0.0]]) is None and id_label(True) is None
    # untracked drawing never labels; a person with nothing drawn gets no label either
    assert np.array_equal(
        draw_poses(image, _one_person(points, ids=[8])), draw_poses(image, _one_person(points))
    )
    hidden = {j: (x, y, 0.3) for j, (x, y, _) in points.items()}
    assert np.array_equal(draw_poses(image, _one_person(hidden, ids=[8]), tracking=True), image)


def test_with_showbox_the_label_sits_on_the_box_once():
    image = np.full((120, 160, 3), 40, np.uint8)
    points = {0: (80, 60, 0.9), 1: (90, 62, 0.9)}
    box = (30.0, 40.0, 130.0, 115.0)
    plain = draw_poses(image, _one_person(points, box), tracking=True, show_box=True)
    labelled = draw_poses(image, _one_person(points, box, ids=[8]), tracking=True, show_box=True)
    changed = (labelled != plain).any(axis=2)
    area = np.zeros_like(changed)
    area[_label_area("8", (30, 40), centered=False)] = True
    assert np.array_equal(changed, area)


def test_a_label_near_the_border_stays_inside_the_image():
    image = np.full((60, 80, 3), 40, np.uint8)
    plain = draw_poses(image, _one_person({0: (78, 2, 0.9)}), fast=True, tracking=True)
    out = draw_poses(image, _one_person({0: (78, 2, 0.9)}, ids=[123]), fast=True, tracking=True)
    changed = (out != plain).any(axis=2)
    (w, h), base = cv2.getTextSize("123", cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2)
    area = np.zeros_like(changed)
    area[: h + base + 4, 80 - (w + 4) :] = True  # the chip, pushed into the top right corner
    assert np.array_equal(changed, area)


def test_blended_drawing_is_cheap_on_a_large_frame():
    image = np.zeros((1080, 1920, 3), np.uint8)
    result = _result(10, w=1920, h=1080, seed=7)
    result.keypoint_scores[:] = 0.9
    start = time.process_time()  # CPU time: other jobs on a shared machine do not inflate it
    for _ in range(3):
        draw_poses(image, result)
    per_frame = (time.process_time() - start) / 3
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
