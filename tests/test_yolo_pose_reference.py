"""YOLO11n-pose in torch fp32 reproduces Ultralytics' own predictions (../shared/reference json)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from devkit.shared_data import shared_data, shared_reference
from posekit.families.yolo_pose.checkpoint import load_checkpoint
from posekit.families.yolo_pose.detector import YoloPoseDetector, predictions_to_detections
from posekit.families.yolo_pose.preprocess import preprocess
from posekit.io.images import read_image_rgb


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(shared_reference("yolo11n-pose-reference.json").read_text())


def _image(entry: dict) -> np.ndarray:
    if entry["group"] == "scikit-image":
        from skimage.data import astronaut

        return astronaut()
    dataset, _, folder = entry["group"].partition("/")
    return read_image_rgb(shared_data(dataset) / folder / entry["file"])


def test_stage_check_input_and_raw_output(reference, yolo11n_pose):
    stage = reference["stage_check"]
    entry = next(e for e in reference["images"] if e["file"] == stage["file"])
    batch, _ = preprocess([_image(entry)])
    expected_input = stage["input_tensor"]
    assert list(batch.shape) == expected_input["shape"] == [1, 3, 416, 640]
    assert batch.sum(dtype=np.float64) == pytest.approx(expected_input["sum"], abs=1e-3)
    np.testing.assert_allclose(
        batch[0].sum(axis=(1, 2), dtype=np.float64), expected_input["per_channel_sum_RGB"], atol=1e-3
    )
    np.testing.assert_allclose(batch[0, :, 0, 0], expected_input["pixel_[0,:,0,0]"], atol=1e-7)
    np.testing.assert_allclose(batch[0, :, 208, 320], expected_input["pixel_[0,:,H/2,W/2]"], atol=1e-7)
    network = load_checkpoint(yolo11n_pose).network
    with torch.no_grad():
        output = network(torch.from_numpy(batch)).numpy()  # unfused BN
    raw = stage["raw_output"]
    assert list(output.shape) == raw["shape"] == [1, 56, 5460]
    np.testing.assert_allclose(output[0, :, :5].T, raw["first5_anchor_columns"], atol=1e-3)
    np.testing.assert_allclose(output.sum(axis=2)[0], raw["row_sums"], rtol=1e-5)
    assert output.sum(dtype=np.float64) == pytest.approx(raw["sum"], rel=1e-6)
    assert int(np.argmax(output[0, 4])) == 5260 and output[0, 4, 5260] == pytest.approx(0.91581, abs=1e-4)


def test_every_reference_image_same_people_boxes_keypoints_scores(reference, yolo11n_pose):
    # BN fused, as Ultralytics' predictor runs; torch fp32 is what reproduces it (the default is auto)
    detector = YoloPoseDetector(weights=str(yolo11n_pose), backend="torch", precision="fp32")
    assert len(reference["images"]) == 10
    for entry in reference["images"]:
        image = _image(entry)
        assert list(image.shape[:2]) == entry["orig_hw"]
        batch, _ = preprocess([image])
        assert list(batch.shape) == entry["input_shape"], entry["file"]
        people = detector.predict([image])[0]
        expected = entry["detections"]
        assert len(people.boxes) == len(expected), entry["file"]
        keypoints = np.array([d["keypoints"] for d in expected], dtype=np.float64).reshape(-1, 17, 3)
        np.testing.assert_allclose(people.boxes, [d["box_xyxy"] for d in expected], atol=0.5)
        np.testing.assert_allclose(people.scores, [d["conf"] for d in expected], atol=1e-3)
        np.testing.assert_allclose(people.keypoints, keypoints[..., :2], atol=0.5)
        np.testing.assert_allclose(people.keypoint_scores, keypoints[..., 2], atol=1e-3)
        assert list(people.classes) == [d["cls"] for d in expected]
        # The detector's Detections carry the same people with their final keypoints.
        dets = predictions_to_detections(people)
        np.testing.assert_array_equal(dets.boxes, people.boxes)
        np.testing.assert_array_equal(dets.keypoints, people.keypoints)
        np.testing.assert_array_equal(dets.keypoint_scores, people.keypoint_scores)
        assert not dets.second_opinion
