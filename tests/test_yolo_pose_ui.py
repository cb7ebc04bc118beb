"""The UI's Infer and Track actions with the yolo11n-pose detector (called directly, no browser)."""

from __future__ import annotations

import json

import numpy as np
import pytest

gr = pytest.importorskip("gradio")

from posekit.detectors import detector_names  # noqa: E402
from posekit.ui import common, tab_infer, tab_track  # noqa: E402

IMAGE = "val2017/000000196141.jpg"
MP4 = "videos/000001_mpiinew_test/000001_mpiinew_test.mp4"


@pytest.fixture(autouse=True)
def ui_root(tmp_path):
    """The UI writes only below its root (posekit ui --root): here each test's tmp_path."""
    yield common.set_root(tmp_path)
    common._ROOT.clear()


def test_infer_tab_one_stage_and_two_stage_with_yolo11n_pose(coco_mini, yolo11n_pose, tmp_path):
    assert "yolo11n-pose" in detector_names()
    image = str(coco_mini / IMAGE)
    outputs = {}
    for model in (tab_infer.DETECTOR_MODEL, tab_infer.DEFAULT_MODEL):
        out = tmp_path / model[:7]
        summary, gallery, _, _ = tab_infer.run_infer(
            [image], None, "", model, "", "", "yolo11n-pose", str(out)
        )
        assert "1 frame" in summary and gallery["visible"] is True
        outputs[model] = json.loads((out / "alphapose-results.json").read_text())
    one_stage, landmarks = outputs[tab_infer.DETECTOR_MODEL], outputs[tab_infer.DEFAULT_MODEL]
    assert len(one_stage) == 4 and 1 <= len(landmarks) <= 4  # YOLO's 4 people; BlazePose on their boxes
    boxes = np.array([e["box"] for e in one_stage])
    assert all(np.abs(boxes - e["box"]).max(axis=1).min() < 1e-3 for e in landmarks)
    assert not any(
        np.allclose(a["keypoints"], b["keypoints"], atol=1.0) for a in one_stage for b in landmarks
    )


def test_track_tab_tracks_yolo11n_pose_people(posetrack_mini, yolo11n_pose, tmp_path):
    _, video, downloads = tab_track.run_track_video(
        str(posetrack_mini / MP4), "oks", "yolo11n-pose", str(tmp_path)
    )
    assert video and any(d.endswith("alphapose-results.json") for d in downloads)
    results = json.loads((tmp_path / "alphapose-results.json").read_text())
    assert len(results) >= 8 and all(isinstance(r["idx"], int) and r["idx"] >= 1 for r in results)
    assert all(len(r["keypoints"]) == 51 for r in results)
