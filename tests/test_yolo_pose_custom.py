"""A YOLO-pose file with a custom keypoint set (K = 5) through infer, rendering and `posekit eval`."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from posekit.cli.main import main
from posekit.evaluate.coco import UNIFORM_OKS_SIGMA
from posekit.families.yolo_pose.detector import YoloPoseDetector
from posekit.infer.sources import open_images
from posekit.infer.stages import process
from posekit.io.images import read_image_rgb
from posekit.pose.onestage import DetectorKeypoints
from posekit.render.draw import DEFAULT_KP_THRESH, draw_poses
from tests.yolo_pose_helpers import random_network, save_ultralytics_checkpoint

IMAGE = "val2017/000000196141.jpg"
GT = "annotations/person_keypoints_val2017.json"


def test_five_keypoint_file_one_stage_results_points_only_rendering_and_eval(
    coco_mini, tmp_path, monkeypatch, capsys
):
    checkpoint = save_ultralytics_checkpoint(
        tmp_path / "five.pt", random_network((5, 3), seed=7), monkeypatch
    )
    monkeypatch.undo()
    detector = YoloPoseDetector(name="five.pt", weights=str(checkpoint), conf_thres=0.5, max_det=20)
    assert (detector.num_joints, detector.kpt_shape) == (5, (5, 3))
    image = read_image_rgb(coco_mini / IMAGE)
    expected = detector.detect([image])[0]
    assert 1 <= len(expected) <= 20
    frame = next(
        process(open_images([coco_mini / IMAGE]), detector, DetectorKeypoints(5), single_thread=True)
    )
    result = frame.result
    np.testing.assert_allclose(result.keypoints, expected.keypoints)  # no pose NMS, no change
    np.testing.assert_allclose(result.keypoint_scores, expected.keypoint_scores)
    np.testing.assert_allclose(result.scores, expected.scores)
    # Rendering: points only (no COCO limbs for K != 17): every changed pixel is next to a shown point.
    canvas = image[:, :, ::-1].copy()
    drawn = draw_poses(canvas, result)
    changed = np.argwhere((drawn != canvas).any(axis=2))[:, ::-1]  # (x, y)
    shown = result.keypoints[result.keypoint_scores > DEFAULT_KP_THRESH]
    assert len(changed) and len(shown)
    distance = np.linalg.norm(changed[:, None, :] - shown[None].astype(int), axis=2).min(axis=1)
    assert distance.max() <= 4
    # The CLI writes K = 5 entries (x, y, score per joint) scored as one-stage: person score = box score.
    args = ["infer", "--image", str(coco_mini / IMAGE), "--outdir", str(tmp_path / "out"), "--sp"]
    with monkeypatch.context() as patch:
        patch.setattr("posekit.detectors.build_detector", lambda name, **kw: detector)
        assert main([*args, "--detector", str(checkpoint), "--eval"]) == 0
    entries = json.loads((tmp_path / "out" / "alphapose-results.json").read_text())
    assert len(entries) == len(expected)
    assert all(len(e["keypoints"]) == 15 for e in entries)
    np.testing.assert_allclose([e["score"] for e in entries], expected.scores, atol=1e-6)
    # posekit eval on a 5-joint ground truth uses uniform OKS sigmas: the stats pycocotools gives with them.
    gt = json.loads((coco_mini / GT).read_text())
    gt["categories"][0]["keypoints"] = gt["categories"][0]["keypoints"][:5]
    for ann in gt["annotations"]:
        ann["keypoints"] = ann["keypoints"][:15]
        ann["num_keypoints"] = sum(1 for v in ann["keypoints"][2::3] if v > 0)
    gt_path = tmp_path / "gt5.json"
    gt_path.write_text(json.dumps(gt))
    capsys.readouterr()
    assert main(["eval", str(gt_path), str(tmp_path / "out" / "alphapose-results.json")]) == 0
    stats = json.loads((tmp_path / "out" / "alphapose-results.stats.json").read_text())
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO(str(gt_path))
        evaluator = COCOeval(coco, coco.loadRes(entries), "keypoints")
        evaluator.params.kpt_oks_sigmas = np.full(5, UNIFORM_OKS_SIGMA)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    values = list(stats.values()) if isinstance(stats, dict) else stats
    np.testing.assert_allclose(values[:10], evaluator.stats, atol=1e-9)
