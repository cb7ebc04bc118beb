"""The README's main job for real: `posekit infer --sample` with the embedded default model."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from posekit.cli.main import main
from posekit.errors import MissingFileError
from posekit.io.images import sample_image_path


@pytest.fixture(scope="module")
def default_model_present():
    from posekit.modelstore import ensure_default_model

    try:
        ensure_default_model(auto_pull=False)
    except MissingFileError as exc:
        pytest.skip(f"default model not installed here: {exc}")


def test_sample_photo_end_to_end(tmp_path, default_model_present, capsys):
    out = tmp_path / "result"
    assert main(["infer", "--sample", "--outdir", str(out)]) == 0
    assert "1 frame(s), 1 pose(s) in " in capsys.readouterr().out
    results = json.loads((out / "alphapose-results.json").read_text())
    # One astronaut: after pose NMS exactly one person, her face where the photo has it.
    assert len(results) == 1
    (person,) = results
    assert person["image_id"] == "astronaut.png" and person["category_id"] == 1
    kps = np.array(person["keypoints"]).reshape(17, 3)
    nose, left_eye, right_eye = kps[0], kps[1], kps[2]
    assert 200 < nose[0] < 245 and 95 < nose[1] < 140, nose
    assert right_eye[0] < nose[0] < left_eye[0]  # the image's left is her right
    assert max(left_eye[1], right_eye[1]) < nose[1]
    assert (kps[:7, 2] > 0.4).all()  # face and shoulders are in view ...
    assert (kps[11:, 2] < 0.3).all()  # ... hips and legs at or below the frame's edge (MediaPipe: <= 0.26)
    rendered = cv2.imread(str(out / "vis" / "astronaut.png"))
    original = cv2.imread(str(sample_image_path()))
    changed = np.argwhere((rendered.astype(int) - original).any(axis=2))
    assert len(changed) > 500  # the skeleton is drawn ...
    x, y, w, _ = person["box"]
    inside = (changed[:, 1] >= x - 5) & (changed[:, 1] <= x + w + 5) & (changed[:, 0] >= y - 5)
    assert inside.mean() > 0.99  # ... on the person, and nowhere else
