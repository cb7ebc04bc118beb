"""The default model on half-body framing (a person from the head to about the waist) against MediaPipe's
own Pose on the same images and model files.

tests/data/mediapipe_halfbody.json holds MediaPipe 0.10.14's 33 landmarks for scikit-image's astronaut
and 10 upper-body crops of coco-val-mini / posetrack18-mini photos (made once, outside posekit, by
tests/data/make_mediapipe_halfbody.py). A person's size is the long side of the box around the COCO
joints MediaPipe puts inside the picture with visibility >= 0.5 (the "seen" joints); errors are in that
size.

Tolerances, from the measurements in docs/default-model.md:
- The default model: face and shoulders within 7.5 % in every case (measured at most 5.6 %; the
  squeezed pose of issue 32 put the astronaut's shoulders 18 % off), every seen joint of the astronaut
  within 5 % (measured 2.0 %).
- With MediaPipe's own input sampling (sampling="mediapipe", the pipeline step for step as MediaPipe's):
  every seen joint within 12.5 %, at most one per person beyond 5.5 %, and the median within 3 %
  (measured: median at most 2.2 %, one wrist at 9.2 %, every other joint within 5.1 %; LiteRT's and
  MediaPipe's runs of the landmark model differ slightly, which moves a point by up to a few heatmap
  cells when its heatmap peak is near MediaPipe's 0.5 refinement threshold).
- Joints MediaPipe puts outside the picture or sees with visibility < 0.3 score below 0.3 (measured at
  most 0.23; MediaPipe's visibility of the astronaut's hips is 0.22-0.26).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from devkit.shared_data import shared_data
from posekit.io.images import read_image_rgb, sample_image_path
from posekit.modelstore import ensure_default_model

REFERENCE = json.loads((Path(__file__).parent / "data" / "mediapipe_halfbody.json").read_text())
CASES = {case["name"]: case for case in REFERENCE["cases"]}
# BlazePose landmark index of each COCO keypoint (nose, eyes, ears, shoulders, elbows, wrists, hips,
# knees, ankles), written out here so the test does not take it from the code under test.
COCO_LANDMARKS = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]


@pytest.fixture(scope="module")
def models():
    ensure_default_model()
    from posekit.families.blazepose import BlazePoseDetector, default_pose_model

    return {
        "area": BlazePoseDetector(),
        "mediapipe": BlazePoseDetector(sampling="mediapipe"),
        "pose": default_pose_model(),
    }


def crop(case: dict) -> np.ndarray:
    """The case's RGB image: the source (checked by its sha256) cut to the crop box."""
    if case["source"] == "skimage:astronaut":
        image = read_image_rgb(sample_image_path())
        digest = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
    else:
        root = shared_data(case["source"].split("/")[0]).parent
        path = root / case["source"]
        image, digest = read_image_rgb(path), hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == case["sha256"], f"{case['source']} is not the image the reference was made on"
    x0, y0, x1, y1 = case["box"]
    return np.ascontiguousarray(image[y0:y1, x0:x1])


def reference(case: dict, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """MediaPipe's COCO joints (17, 2), which it sees in the picture, which it does not place or see
    (outside, or visibility < 0.3), and the person's size."""
    landmarks = np.array(case["landmarks"])[COCO_LANDMARKS]
    height, width = image.shape[:2]
    x, y, visibility = landmarks.T
    inside = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    seen = inside & (visibility >= 0.5)
    extent = landmarks[seen, :2].max(axis=0) - landmarks[seen, :2].min(axis=0)
    return landmarks[:, :2], seen, ~inside | (visibility < 0.3), float(extent.max())


def person(
    models: dict, sampling: str, image: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (17, 2) and scores (17,) of the person nearest MediaPipe's face and shoulders, as
    `posekit infer` finds them (the detections, with their landmark pass, passed to the pose model)."""
    found = models[sampling].detect([image])[0]
    assert len(found), "nobody found"
    pose = models["pose"]
    poses = pose.estimate(image, found)
    keypoints, scores = poses.keypoints, poses.scores
    nearest = np.linalg.norm(keypoints[:, :7] - target[None, :7], axis=2).mean(axis=1).argmin()
    return keypoints[nearest], scores[nearest]


def test_astronaut_as_mediapipe_places_her(models):
    """Issue 32's first picture: shoulders where they are, hips below the frame with low scores."""
    image = crop(CASES["astronaut"])
    target, seen, unseen, size = reference(CASES["astronaut"], image)
    keypoints, scores = person(models, "area", image, target)
    errors = np.linalg.norm(keypoints - target, axis=1) / size
    assert errors[seen].max() < 0.05, errors.round(3)
    assert abs(keypoints[5, 0] - keypoints[6, 0]) > 180  # MediaPipe: 306 - 113; the squeezed pose 96
    assert unseen[11:].all() and (scores[unseen] < 0.3).all(), scores.round(2)
    assert keypoints[12, 1] >= image.shape[0] and scores[12] == 0.0  # her right hip, below the frame


@pytest.mark.parametrize("name", [name for name in CASES if name != "astronaut"])
def test_default_model_keeps_half_body_people_unsqueezed(models, name):
    image = crop(CASES[name])
    target, seen, _, size = reference(CASES[name], image)
    keypoints, _ = person(models, "area", image, target)
    errors = np.linalg.norm(keypoints - target, axis=1) / size
    assert errors[:7][seen[:7]].max() < 0.075, errors.round(3)


@pytest.mark.parametrize("name", list(CASES))
def test_mediapipe_sampling_places_half_body_people_as_mediapipe(models, name):
    image = crop(CASES[name])
    target, seen, unseen, size = reference(CASES[name], image)
    keypoints, scores = person(models, "mediapipe", image, target)
    errors = np.linalg.norm(keypoints - target, axis=1)[seen] / size
    assert np.median(errors) < 0.03 and errors.max() < 0.125, errors.round(3)
    assert (errors > 0.055).sum() <= 1, errors.round(3)
    assert (scores[unseen] < 0.3).all(), scores.round(2)
