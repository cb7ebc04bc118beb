"""YOLO-pose as a posekit detector: registry names, missing files, one-stage and two-stage inference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from devkit.shared_data import shared_reference
from posekit.cli.main import main
from posekit.detectors import build_detector, canonical_detector_name
from posekit.errors import MissingFileError, PosekitError
from posekit.evaluate.coco import evaluate_keypoints

COCO_IMAGES = "val2017"
GT = "annotations/person_keypoints_val2017.json"
TORCH_FP32 = ["--backend", "torch", "--precision", "fp32"]


@pytest.fixture(scope="module")
def reference() -> dict:
    data = json.loads(shared_reference("yolo11n-pose-reference.json").read_text())
    return {e["file"]: e["detections"] for e in data["images"] if e["group"].startswith("coco-val-mini")}


@pytest.fixture(scope="module")
def one_stage(coco_mini, yolo11n_pose, tmp_path_factory) -> list[dict]:
    """`posekit infer --detector yolo11n-pose` without a pose model, on coco-val-mini."""
    out = tmp_path_factory.mktemp("one-stage")
    args = [
        "infer",
        "--indir",
        str(coco_mini / COCO_IMAGES),
        "--outdir",
        str(out),
        "--detector",
        "yolo11n-pose",
        *TORCH_FP32,  # Ultralytics' reference is fp32 torch; --backend auto is checked in test_runtime.py
    ]
    assert main([*args, "--sp"]) == 0
    return json.loads((out / "alphapose-results.json").read_text())


def test_missing_yolo11n_pose_names_the_file_and_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEKIT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingFileError) as info:
        build_detector("yolo11n-pose")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(
        f"{tmp_path / 'home' / 'models' / 'yolo11n-pose.pt'} is missing (yolo11n-pose weights)"
    )
    assert "`posekit models pull yolo11n-pose --accept-license`" in message and "--from-file" in message
    assert main(["infer", "--image", "x.jpg", "--detector", "absent.pt"]) == 1
    with pytest.raises(MissingFileError, match=r"YOLO-pose checkpoint not found: absent\.pt \(looked at"):
        build_detector("absent.pt")
    with pytest.raises(PosekitError, match="unknown detector 'yolo12-pose'"):
        canonical_detector_name("yolo12-pose")


def test_a_pt_file_by_path_or_by_name_in_the_models_folder(tmp_path, monkeypatch, yolo11n_pose):
    monkeypatch.setenv("POSEKIT_HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "models").mkdir(parents=True)
    shutil.copyfile(yolo11n_pose, tmp_path / "home" / "models" / "my-pose.pt")
    by_name = build_detector("my-pose.pt")
    assert by_name.checkpoint.path == tmp_path / "home" / "models" / "my-pose.pt"
    assert (by_name.name, by_name.num_joints, by_name.kpt_shape) == ("my-pose.pt", 17, (17, 3))
    by_path = build_detector(str(yolo11n_pose))
    assert by_path.checkpoint.path == yolo11n_pose
    with pytest.raises(PosekitError, match=r"synthetic\.pt: a YOLO detect checkpoint|not found"):
        build_detector("yolox-s", weights=str(tmp_path / "synthetic.pt"))


def test_one_stage_results_are_ultralytics_people_with_box_and_keypoint_scores(one_stage, reference):
    assert sum(len(d) for d in reference.values()) == len(one_stage) == 12  # no pose NMS dropped anyone
    for name, expected in reference.items():
        got = [r for r in one_stage if r["image_id"] == name]
        assert len(got) == len(expected)
        for entry, det in zip(got, expected):
            keypoints, expected_kpts = np.array(entry["keypoints"]).reshape(17, 3), np.array(det["keypoints"])
            np.testing.assert_allclose(keypoints[:, :2], expected_kpts[:, :2], atol=0.5)
            np.testing.assert_allclose(keypoints[:, 2], expected_kpts[:, 2], atol=1e-3)
            assert entry["score"] == pytest.approx(det["conf"], abs=1e-3)  # the box score
            x1, y1, w, h = entry["box"]
            np.testing.assert_allclose([x1, y1, x1 + w, y1 + h], det["box_xyxy"], atol=0.5)


def test_one_stage_ap_equals_the_reference_predictions_ap(one_stage, reference, coco_mini):
    as_results = [
        {
            "image_id": name,
            "category_id": 1,
            "keypoints": np.array(det["keypoints"]).ravel().tolist(),
            "score": det["conf"],
        }
        for name, dets in reference.items()
        for det in dets
    ]
    ours = evaluate_keypoints(coco_mini / GT, one_stage)
    theirs = evaluate_keypoints(coco_mini / GT, as_results)
    assert ours["AP"] == pytest.approx(theirs["AP"], abs=0.005)
    assert ours["AP"] > 0.6 and ours["AR50"] == 1.0


def test_yolo_boxes_feed_the_default_landmark_model(coco_mini, yolo11n_pose, one_stage, tmp_path):
    image = coco_mini / COCO_IMAGES / "000000196141.jpg"
    args = ["infer", "--image", str(image), "--outdir", str(tmp_path), "--detector", "yolo11n-pose"]
    assert main([*args, "--pose_model", "default", "--sp", *TORCH_FP32]) == 0  # the one_stage boxes' path
    two_stage = json.loads((tmp_path / "alphapose-results.json").read_text())
    yolo = [r for r in one_stage if r["image_id"] == image.name]
    assert 1 <= len(two_stage) <= len(yolo) == 4
    yolo_boxes = np.array([r["box"] for r in yolo])
    for entry in two_stage:  # every person sits on one of YOLO's boxes, with BlazePose's keypoints
        assert np.abs(yolo_boxes - entry["box"]).max(axis=1).min() < 1e-3
        assert entry["score"] != pytest.approx(yolo[0]["score"])
    assert not any(np.allclose(e["keypoints"], y["keypoints"], atol=1.0) for e in two_stage for y in yolo)


def test_pose_model_detector_needs_a_keypoint_detector(coco_mini, tmp_path, capsys):
    image = coco_mini / COCO_IMAGES / "000000196141.jpg"
    args = ["infer", "--image", str(image), "--outdir", str(tmp_path), "--pose_model", "detector"]
    assert main(args) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "error: --pose_model detector needs a keypoint detector (e.g. yolo11n-pose); blazepose has none"
    )


def test_det_box_validation_creates_its_detections_with_yolo11n_pose(
    coco_mini, yolo11n_pose, reference, tmp_path
):
    """`posekit validate --detector yolo11n-pose` makes DET_FILE from YOLO's person boxes (the pose
    model then runs on them as with any detector)."""
    from devkit.train_helpers import tiny_config
    from posekit.evaluate.validate import ensure_detections

    cfg = tiny_config(coco_mini, **{"DATASET.TEST.DET_FILE": str(tmp_path / "dets.json")})
    dets = ensure_detections(cfg, "yolo11n-pose", backend="torch", precision="fp32")  # as the reference
    written = json.loads(dets.read_text())
    gt = json.loads((coco_mini / GT).read_text())
    names = {im["id"]: im["file_name"] for im in gt["images"]}
    assert len(written) == sum(len(d) for d in reference.values()) == 12
    for image_id, name in names.items():
        got = [e for e in written if e["image_id"] == image_id]
        boxes = [[x, y, x + w, y + h] for x, y, w, h in (e["bbox"] for e in got)]
        np.testing.assert_allclose(boxes, [d["box_xyxy"] for d in reference[name]], atol=0.5)
        np.testing.assert_allclose([e["score"] for e in got], [d["conf"] for d in reference[name]], atol=1e-3)


def test_seed_demo_script_tracks_yolo11n_pose_people(posetrack_mini, yolo11n_pose, tmp_path):
    """scripts/demo_inference.py --detector yolo11n-pose --pose_track on the PoseTrack frames: the
    one-stage people of every frame (Ultralytics' boxes), each with an integer track id."""
    import importlib.util

    script = Path(__file__).resolve().parents[1] / "scripts" / "demo_inference.py"
    spec = importlib.util.spec_from_file_location("demo_inference", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    frames = posetrack_mini / "videos" / "000001_mpiinew_test"
    argv = ["--detector=yolo11n-pose", f"--indir={frames}", f"--outdir={tmp_path}", "--pose_track", "--sp"]
    assert module.main([*argv, "--no_save_img", *TORCH_FP32]) == 0  # the reference is torch fp32
    results = json.loads((tmp_path / "alphapose-results.json").read_text())
    expected = json.loads(shared_reference("yolo11n-pose-reference.json").read_text())["images"]
    per_frame = {e["file"]: e["detections"] for e in expected if e["group"].startswith("posetrack18-mini")}
    assert len(per_frame) == 5 and len(results) == sum(len(d) for d in per_frame.values())
    for name, dets in per_frame.items():
        got = [r for r in results if r["image_id"] == name]
        boxes = sorted([x, y, x + w, y + h] for x, y, w, h in (r["box"] for r in got))
        np.testing.assert_allclose(boxes, sorted(d["box_xyxy"] for d in dets), atol=0.5)
        assert all(isinstance(r["idx"], int) for r in got) and len({r["idx"] for r in got}) == len(got)
