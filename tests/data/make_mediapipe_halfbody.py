"""Writes tests/data/mediapipe_halfbody.json: MediaPipe Pose's own landmarks on half-body framings.

Not part of posekit and never imported by the tests: it needs MediaPipe, which posekit does not depend
on, so it runs once in a throwaway virtual environment outside the repo:

    python3 -m venv /tmp/mpvenv
    /tmp/mpvenv/bin/pip install mediapipe==0.10.14 scikit-image
    /tmp/mpvenv/bin/python tests/data/make_mediapipe_halfbody.py \
        ../shared/data tests/data/mediapipe_halfbody.json

Each case is an RGB image (scikit-image's astronaut, or a crop of a shared-data image decoded with
OpenCV as posekit.io.images.read_image_rgb does) given to
mediapipe.solutions.pose.Pose(static_image_mode=True, model_complexity=1): one person detection on the
whole image, MediaPipe's region from its alignment points, one pass of pose_landmark_full.tflite. The
json keeps per case the source (path relative to the shared data folder, or "skimage:astronaut"), its
sha256, the crop box [x0, y0, x1, y1] (pixels of the source, x1/y1 exclusive) and MediaPipe's 33
landmarks as [x, y, visibility] in pixels of the crop; a case where MediaPipe finds nobody is an error.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import cv2
import mediapipe
import numpy as np

ASTRONAUT = "skimage:astronaut"
# (name, source, crop box x0, y0, x1, y1): a person framed from the head to about the waist.
CASES = [
    ("astronaut", ASTRONAUT, None),
    ("coco785_skier", "coco-val-mini/val2017/000000000785.jpg", (250, 20, 510, 225)),
    ("coco40083_seated_left", "coco-val-mini/val2017/000000040083.jpg", (0, 80, 190, 265)),
    ("coco40083_seated_right", "coco-val-mini/val2017/000000040083.jpg", (270, 120, 440, 265)),
    ("coco196141_batter", "coco-val-mini/val2017/000000196141.jpg", (215, 55, 400, 235)),
    ("coco196141_catcher", "coco-val-mini/val2017/000000196141.jpg", (440, 190, 640, 385)),
    ("coco197388_skier_right", "coco-val-mini/val2017/000000197388.jpg", (520, 35, 640, 160)),
    ("coco197388_skier_bottom", "coco-val-mini/val2017/000000197388.jpg", (460, 160, 640, 290)),
    ("posetrack3418_lying", "posetrack18-mini/images/val/003418_mpii_test/000000.jpg", (300, 0, 1400, 1080)),
    (
        "posetrack12834_standing",
        "posetrack18-mini/images/val/012834_mpii_test/000000.jpg",
        (820, 110, 1060, 330),
    ),
    (
        "posetrack12834_dancer",
        "posetrack18-mini/images/val/012834_mpii_test/000000.jpg",
        (260, 160, 520, 350),
    ),
]
MEDIAPIPE_VERSION = "0.10.14"


def load(root: Path, source: str) -> tuple[np.ndarray, str]:
    """The source image as RGB uint8 and the sha256 of its file (or of the array for the astronaut)."""
    if source == ASTRONAUT:
        from skimage import data

        image = data.astronaut()
        return image, hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
    raw = (root / source).read_bytes()
    image = cv2.cvtColor(cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return image, hashlib.sha256(raw).hexdigest()


def main() -> None:
    if mediapipe.__version__ != MEDIAPIPE_VERSION:
        raise SystemExit(f"mediapipe {MEDIAPIPE_VERSION} expected, found {mediapipe.__version__}")
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    cases = []
    for name, source, box in CASES:
        image, digest = load(root, source)
        if box is None:
            box = (0, 0, image.shape[1], image.shape[0])
        x0, y0, x1, y1 = box
        crop = np.ascontiguousarray(image[y0:y1, x0:x1])
        height, width = crop.shape[:2]
        with mediapipe.solutions.pose.Pose(static_image_mode=True, model_complexity=1) as pose:
            found = pose.process(crop).pose_landmarks
        if found is None:
            raise SystemExit(f"{name}: MediaPipe found nobody")
        landmarks = [
            [round(p.x * width, 2), round(p.y * height, 2), round(p.visibility, 4)] for p in found.landmark
        ]
        cases.append(
            {"name": name, "source": source, "sha256": digest, "box": list(box), "landmarks": landmarks}
        )
    document = {
        "generator": "tests/data/make_mediapipe_halfbody.py",
        "mediapipe": mediapipe.__version__,
        "solution": "mediapipe.solutions.pose.Pose(static_image_mode=True, model_complexity=1)",
        "landmarks": "33 BlazePose landmarks per case: [x, y, visibility], pixels of the crop",
        "cases": cases,
    }
    out.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    main()
