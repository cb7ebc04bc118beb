"""BlazePose detector decoding (anchors, boxes, weighted NMS, alignment) and the landmark PoseModel."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.errors import PosekitError
from posekit.families.blazepose import alignment, detector, ssd
from posekit.modelstore import ensure_default_model
from posekit.types import Detections


@pytest.fixture(scope="module")
def models() -> dict:
    return ensure_default_model()


def test_anchors_match_mediapipe_layout():
    anchors = ssd.ssd_anchors()
    assert anchors.shape == (2254, 2)
    # stride 8: 28x28 cells x 2 anchors, stride 16: 14x14 x 2, strides 32 (three layers merged): 7x7 x 6.
    assert np.allclose(anchors[0], anchors[1]) and np.allclose(anchors[0], [0.5 / 28, 0.5 / 28])
    assert np.allclose(anchors[2], [1.5 / 28, 0.5 / 28])
    assert np.allclose(anchors[1567], [27.5 / 28, 27.5 / 28])
    assert np.allclose(anchors[1568], [0.5 / 14, 0.5 / 14])
    assert np.allclose(anchors[1960:1966], [0.5 / 7, 0.5 / 7])
    assert np.allclose(anchors[-1], [6.5 / 7, 6.5 / 7])


def test_decode_boxes_keypoints_and_threshold():
    raw = np.zeros((2254, 12), np.float32)
    scores = np.full(2254, -10.0, np.float32)
    anchor = ssd.ssd_anchors()[100] * 224
    raw[100] = [10, -4, 40, 60, 1, 2, 3, 4, -5, -6, 7, 8]
    scores[100] = 2.0
    scores[200] = 0.0  # sigmoid 0.5
    raw[200, 2:4] = [-5, 10]  # negative width: dropped as MediaPipe does
    scores[300] = 1000.0  # clipped at 100 before the sigmoid
    out_scores, boxes, keypoints = ssd.decode(raw, scores, threshold=0.5)
    assert len(out_scores) == 2
    assert out_scores[0] == pytest.approx(1 / (1 + np.exp(-2.0)))
    assert out_scores[1] == pytest.approx(1.0)
    cx, cy = anchor + np.array([10.0, -4.0])
    assert np.allclose(boxes[0], [cx - 20, cy - 30, cx + 20, cy + 30])
    assert np.allclose(keypoints[0], anchor + np.array([[1, 2], [3, 4], [-5, -6], [7, 8]]))


def test_weighted_nms_averages_overlaps_and_keeps_separate_people():
    scores = np.array([0.6, 0.9, 0.8])
    boxes = np.array([[10, 10, 50, 50], [12, 12, 52, 52], [200, 200, 240, 240]], float)
    keypoints = np.stack([np.full((4, 2), v) for v in (0.0, 10.0, 99.0)])
    out_scores, out_boxes, out_keypoints = ssd.weighted_nms(scores, boxes, keypoints, 0.3)
    assert out_scores.tolist() == [0.9, 0.8]
    assert np.allclose(out_boxes[0], (0.6 * boxes[0] + 0.9 * boxes[1]) / 1.5)
    assert np.allclose(out_keypoints[0], 6.0) and np.allclose(out_keypoints[1], 99.0)
    assert np.allclose(out_boxes[1], boxes[2])
    empty = ssd.weighted_nms(np.zeros(0), np.zeros((0, 4)), np.zeros((0, 4, 2)), 0.3)
    assert [a.shape for a in empty] == [(0,), (0, 4), (0, 4, 2)]


def test_alignment_rotation_and_body_box():
    centre = np.array([100.0, 200.0])
    up, right, left = np.array([0, -100.0]), np.array([100.0, 0]), np.array([-70.0, -70.0])
    points = np.stack([np.stack([centre, centre + v]) for v in (up, right, left)])
    assert np.allclose(alignment.alignment_rotation(points), [0.0, 90.0, -45.0])
    boxes = alignment.alignment_to_box(points[:2], (1.0, 1.0, 0.5))
    assert np.allclose(boxes[0], [50, 100, 150, 300])
    assert np.allclose(boxes[1], [0, 150, 200, 250])


def test_letterbox_and_tiles():
    image = np.full((50, 100, 3), 255, np.uint8)
    tensor, scale, pad_x, pad_y = detector.letterbox(image)
    assert tensor.shape == (1, 224, 224, 3) and scale == pytest.approx(2.24)
    assert (pad_x, pad_y) == (0, 56)
    assert tensor[0, :56].max() == -1.0 and tensor[0, 56:168].min() == 1.0 and tensor[0, 168:].max() == -1.0
    assert detector.tile_windows(640, 400, [1.0]) == [(0, 0, 640, 400)]
    windows = detector.tile_windows(640, 400, [0.5])
    assert all(w == 320 and h == 320 for _, _, w, h in windows)
    # A 43-pixel sliver left below a 384 window stretches the window instead of adding a shifted copy.
    assert detector.tile_windows(640, 427, [0.6], 0.25, slack=0.15) == [(0, 0, 384, 427), (256, 0, 384, 427)]
    assert len(detector.tile_windows(640, 427, [0.6], 0.25)) == 4
    covered = np.zeros((400, 640), bool)
    for x0, y0, w, h in windows:
        covered[y0 : y0 + h, x0 : x0 + w] = True
    assert covered.all()


def test_mediapipe_letterbox_samples_the_corner_aligned_square_bilinearly():
    # MediaPipe's ImageToTensor: the 100 x 100 square around a 50 x 100 image maps corner to corner onto
    # 224 x 224 (scale 2.24, the image's top edge at input row 25 * 2.24 = 56), black outside the image.
    image = np.full((50, 100, 3), 255, np.uint8)
    tensor, scale, pad_x, pad_y = detector.letterbox(image, "mediapipe")
    assert tensor.shape == (1, 224, 224, 3) and scale == pytest.approx(2.24)
    assert (pad_x, pad_y) == (0.0, pytest.approx(56.0))
    column = tensor[0, :, 112, 0]
    # Input row r samples image row (r - 56) / 2.24: rows 56..165 fall on the image (row 165 on 48.7),
    # rows 54, 55 and 166, 167 blend its edge with the black border, the rest are border only.
    assert (column[:54] == -1.0).all() and (column[56:166] == 1.0).all() and (column[168:] == -1.0).all()
    assert (np.abs(column[[54, 55, 166, 167]]) < 1.0).all()
    # The area letterbox of the same image: whole-pixel padding, the image block exact.
    area = detector.letterbox(image, "area")
    assert area[1:] == (pytest.approx(2.24), 0.0, 56.0) and (area[0][0, 56:168] == 1.0).all()


def test_detector_sampling_option_is_checked(models):
    with pytest.raises(PosekitError, match="sampling must be one of area, mediapipe"):
        detector.BlazePoseDetector(sampling="nearest")


def test_keypoints_outside_the_image_score_zero_and_widen_the_box():
    from posekit.families.blazepose.landmarks import NUM_LANDMARKS, LandmarkPass, outside_image

    points = np.array([[0.0, 0.0], [99.9, 49.9], [-0.1, 10.0], [100.0, 10.0], [10.0, 50.0], [10.0, -3.0]])
    assert outside_image(points, 100, 50).tolist() == [False, False, True, True, True, True]
    landmarks = np.tile([[50.0, 20.0]], (NUM_LANDMARKS, 1))
    raw = np.zeros((NUM_LANDMARKS, 5))
    raw[:, 3:] = 10.0  # visibility and presence logits: sigmoid(10) = 0.9999546
    raw[25:, 4] = -10.0  # knees, ankles and feet absent
    landmarks[23] = [40.0, 49.0]  # left hip on the last row
    landmarks[24] = [60.0, 50.0]  # right hip one row below the image
    landmarks[27] = [40.0, 120.0]  # left ankle far below
    landmark_pass = LandmarkPass(landmarks, raw, 0.5, (100, 50))
    scores = landmark_pass.coco()[1]
    assert scores[11] == pytest.approx(0.5 * 0.9999546**2) and scores[12] == 0.0
    assert scores[15] == 0.0 and scores[5] == pytest.approx(scores[11])
    # The box of a person the frame cuts off spans all 33 landmarks (clipped to the image later) ...
    assert landmark_pass.body_extent()[:, 1].max() == 120.0
    # ... of a person inside the image only the landmarks present.
    landmarks[24], landmarks[27] = [60.0, 49.0], [40.0, 49.0]
    inside = LandmarkPass(landmarks, raw, 0.5, (100, 50))
    assert (inside.coco()[1] > 0).all() and len(inside.body_extent()) == 25


def test_detector_on_images_without_people_and_bad_input(models):
    from posekit.detectors import build_detector

    blazepose = build_detector("blazepose")
    assert isinstance(blazepose, detector.BlazePoseDetector)
    flat = blazepose.detect([np.full((240, 320, 3), 127, np.uint8)])
    assert len(flat) == 1 and len(flat[0]) == 0 and flat[0].boxes.shape == (0, 4)
    with pytest.raises(PosekitError, match="RGB uint8"):
        blazepose.detect([np.zeros((240, 320), np.uint8)])
    with pytest.raises(PosekitError, match="unknown option"):
        build_detector("blazepose", threshold=0.2)


def test_landmark_model_with_no_boxes_and_bad_weights(models, tmp_path):
    from posekit.families.blazepose import BlazePoseLandmarkModel, default_pose_model

    model = default_pose_model()
    poses = model.estimate(np.zeros((64, 64, 3), np.uint8), Detections.from_boxes(np.zeros((0, 4))))
    keypoints, scores = poses.keypoints, poses.scores
    assert keypoints.shape == (0, 17, 2) and scores.shape == (0, 17)
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model")
    with pytest.raises(PosekitError, match=r"bad\.tflite: not a valid TFLite model"):
        BlazePoseLandmarkModel(weights=bad)
    with pytest.raises(PosekitError, match="not found"):
        BlazePoseLandmarkModel(weights=tmp_path / "absent.tflite")


def test_the_detector_and_the_pose_model_share_one_landmark_interpreter():
    """One LiteRT interpreter of the landmark model for the detector's passes and the pose model's; the
    same file with another thread count, or another file, gets its own."""
    from posekit.families.blazepose import BlazePoseDetector, BlazePoseLandmarkModel

    detector, model = BlazePoseDetector(), BlazePoseLandmarkModel()
    assert detector._landmarks is not None
    assert detector._landmarks._interpreter is model._interpreter
    assert BlazePoseDetector()._interpreter is detector._interpreter
    assert detector._interpreter is not model._interpreter
    assert BlazePoseLandmarkModel(num_threads=1)._interpreter is not model._interpreter


def test_detection_fields_travel_with_selected_detections():
    found = Detections(np.arange(8, dtype=np.float32).reshape(2, 4), np.array([0.9, 0.4], np.float32))
    found.rotations = np.array([90.0, -45.0])
    found.keypoints = np.arange(2 * 17 * 2.0).reshape(2, 17, 2)
    found.second_opinion = True
    kept = found.select(np.array([False, True]))
    assert kept.boxes.tolist() == [[4, 5, 6, 7]] and kept.scores.tolist() == [np.float32(0.4)]
    assert kept.rotations is not None and kept.rotations.tolist() == [-45.0]
    np.testing.assert_array_equal(kept.keypoints, found.keypoints[[1]])
    assert kept.keypoint_scores is None and kept.alignment is None and kept.second_opinion


def test_selected_people_keep_their_ids_and_alignment():
    from posekit.types import PoseResult

    people = PoseResult(
        np.arange(12.0).reshape(3, 4),
        np.array([0.9, 0.8, 0.7]),
        np.arange(3 * 17 * 2.0).reshape(3, 17, 2),
        np.full((3, 17), 0.5),
        np.array([3.0, 2.0, 1.0]),
        [7, 8, 9],
        alignment=np.arange(12.0).reshape(3, 2, 2),
    )
    kept = people.select(np.array([True, False, True]))
    assert kept.ids == [7, 9] and kept.boxes.tolist() == [[0, 1, 2, 3], [8, 9, 10, 11]]
    assert kept.scores.tolist() == [3.0, 1.0] and kept.box_scores.tolist() == [0.9, 0.7]
    np.testing.assert_array_equal(kept.keypoints, people.keypoints[[0, 2]])
    np.testing.assert_array_equal(kept.alignment, people.alignment[[0, 2]])
    assert len(people.select(np.array([], dtype=int))) == 0
    assert people.select(np.array([1])).ids == [8]


def test_heatmap_refinement_moves_only_confident_points_inside_their_window():
    from posekit.families.blazepose.landmarks import refine_from_heatmap

    heatmap = np.full((64, 64, 4), -80.0, np.float32)
    heatmap[10, 21, 0] = 80.0  # point 0: one sure cell next to it
    heatmap[0, 0, 1] = heatmap[1, 2, 1] = 0.0  # point 1 at the corner: two cells of confidence 0.5
    heatmap[63, 63, 1] = 80.0  # ... and one beyond its window (no wrap-around at the edge)
    heatmap[30, 30, 2] = -1.0  # point 2: peak sigmoid(-1) < 0.5, stays put
    points = np.array([[20.5 * 4, 10.2 * 4], [0.5, 0.5], [30 * 4, 30 * 4], [-8.0, 300.0]])
    refined = refine_from_heatmap(points, heatmap)
    assert np.allclose(refined[0], [21 * 4, 10 * 4], atol=1e-6)
    assert np.allclose(refined[1], [1 * 4, 0.5 * 4], atol=1e-6)
    assert np.array_equal(refined[2:], points[2:])  # doubtful and outside (point 3) points unchanged
