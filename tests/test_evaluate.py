"""COCO keypoint evaluation against pycocotools, and gt/det-box validation end to end."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from devkit.train_helpers import keypoint_subset, tiny_config
from posekit.cli.main import main
from posekit.errors import PosekitError
from posekit.evaluate.coco import STAT_NAMES, UNIFORM_OKS_SIGMA, evaluate_keypoints, oks_sigmas
from posekit.evaluate.validate import validate_det_boxes, validate_gt_boxes
from posekit.models.builder import build_pose_model
from posekit.pose.estimator import TopDownEstimator
from posekit.runtime.torch_backend import TorchBackend
from posekit.skeleton import OKS_SIGMAS

GT = "annotations/person_keypoints_val2017.json"


def _pycocotools_stats(gt_path, results_path, sigmas: np.ndarray | None = None) -> list[float]:
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        evaluator = COCOeval(gt, gt.loadRes(str(results_path)), "keypoints")
        if sigmas is not None:
            evaluator.params.kpt_oks_sigmas = sigmas
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return list(evaluator.stats)


def _noisy_results(gt: dict, sigma: float, rng) -> list[dict]:
    names = {img["id"]: img["file_name"] for img in gt["images"]}
    results = []
    for ann in gt["annotations"]:
        if ann["num_keypoints"] == 0:
            continue
        kps = np.array(ann["keypoints"], dtype=float).reshape(-1, 3)
        kps[:, :2] += rng.normal(0, sigma, (len(kps), 2))
        kps[:, 2] = rng.uniform(0.2, 1.0, len(kps))
        results.append(
            {
                "image_id": names[ann["image_id"]],
                "category_id": 1,
                "keypoints": kps.ravel().tolist(),
                "score": float(rng.uniform(0.5, 3)),
                "box": ann["bbox"],
                "idx": [0],
            }
        )
    return results


@pytest.mark.parametrize("sigma", [0.0, 2.0, 6.0, 15.0])
def test_eval_equals_pycocotools(coco_mini, tmp_path, sigma):
    gt = json.loads((coco_mini / GT).read_text())
    results = _noisy_results(gt, sigma, np.random.default_rng(int(sigma * 10)))
    alphapose_file = tmp_path / "alphapose-results.json"
    alphapose_file.write_text(json.dumps(results))
    # the same results with integer ids, for pycocotools itself
    ids = {img["file_name"]: img["id"] for img in gt["images"]}
    coco_file = tmp_path / "coco-results.json"
    coco_file.write_text(json.dumps([{**r, "image_id": ids[r["image_id"]]} for r in results]))
    expected = _pycocotools_stats(coco_mini / GT, coco_file)
    out = tmp_path / "stats.json"
    assert main(["eval", str(coco_mini / GT), str(alphapose_file), "--out", str(out)]) == 0
    stats = json.loads(out.read_text())
    assert list(stats) == STAT_NAMES
    assert list(stats.values()) == expected
    if sigma == 0.0:
        assert stats["AP"] == 1.0 and stats["AR"] == 1.0
    else:
        assert stats["AP"] < 1.0
    assert main(["eval", str(coco_mini / GT), str(alphapose_file)]) == 0  # default: beside the results
    assert json.loads((tmp_path / "alphapose-results.stats.json").read_text()) == stats


def test_oks_sigmas_coco_and_custom_keypoint_sets():
    assert np.array_equal(oks_sigmas(17), OKS_SIGMAS)
    assert pytest.approx(1.138 / 17) == UNIFORM_OKS_SIGMA  # mean of COCO's 17 sigmas
    assert oks_sigmas(5).tolist() == [UNIFORM_OKS_SIGMA] * 5
    assert oks_sigmas(14).shape == (14,)


@pytest.mark.parametrize("sigma", [0.0, 4.0])
def test_eval_of_a_five_joint_keypoint_set(coco_mini, tmp_path, sigma):
    root = keypoint_subset(coco_mini, tmp_path / "k5", [0, 5, 6, 11, 12])
    gt = json.loads((root / GT).read_text())
    results = _noisy_results(gt, sigma, np.random.default_rng(7))
    assert len(results[0]["keypoints"]) == 15
    stats = evaluate_keypoints(root / GT, results)
    ids = {img["file_name"]: img["id"] for img in gt["images"]}
    coco_file = tmp_path / "coco-results.json"
    coco_file.write_text(json.dumps([{**r, "image_id": ids[r["image_id"]]} for r in results]))
    assert list(stats.values()) == _pycocotools_stats(root / GT, coco_file, np.full(5, 1.138 / 17))
    assert (stats["AP"] == 1.0) if sigma == 0.0 else (0.0 < stats["AP"] < 1.0)


def test_eval_errors(coco_mini, tmp_path):
    gt_path = coco_mini / GT
    with pytest.raises(PosekitError, match="results are empty"):
        evaluate_keypoints(gt_path, [])
    entry = {"image_id": "nope.jpg", "category_id": 1, "keypoints": [0.0] * 51, "score": 1.0}
    with pytest.raises(PosekitError, match=r"image_id 'nope.jpg' is not an image of the ground truth"):
        evaluate_keypoints(gt_path, [entry])
    short = {**entry, "image_id": 785, "keypoints": [0.0] * 42}
    with pytest.raises(PosekitError, match="14 keypoints per person, ground truth has 17"):
        evaluate_keypoints(gt_path, [short])
    no_kp = tmp_path / "gt.json"
    no_kp.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    with pytest.raises(PosekitError, match="no annotation with keypoints"):
        evaluate_keypoints(no_kp, [entry])
    (tmp_path / "empty.json").write_text("[]")
    assert main(["eval", str(gt_path), str(tmp_path / "empty.json")]) == 1


@pytest.fixture(scope="module")
def tiny_estimator(coco_mini):
    torch.manual_seed(0)
    cfg = tiny_config(coco_mini)
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    preset = cfg.data_preset
    return cfg, TopDownEstimator(TorchBackend(model), preset.image_size, preset.heatmap_size)


def test_gt_box_validation_end_to_end(tiny_estimator, coco_mini, tmp_path):
    cfg, estimator = tiny_estimator
    out = tmp_path / "test_gt_kpt.json"
    ap = validate_gt_boxes(estimator, cfg, out)
    results = json.loads(out.read_text())
    assert len(results) == 12  # one per annotated person
    assert {r["image_id"] for r in results} == {785, 40083, 196141, 197388}
    for r in results:
        kps = np.array(r["keypoints"]).reshape(17, 3)
        assert r["score"] == pytest.approx(kps[:, 2].mean() + 1.25 * kps[:, 2].max())
    assert ap == _pycocotools_stats(coco_mini / GT, out)[0]


def test_det_box_validation_uses_det_file(tiny_estimator, coco_mini, tmp_path, capsys):
    cfg, estimator = tiny_estimator
    out = tmp_path / "test_kpt.json"
    ap = validate_det_boxes(estimator, cfg, out)
    assert "Detection results exist, will use it" in capsys.readouterr().out
    results = json.loads(out.read_text())
    detections = json.loads((coco_mini / "annotations/person_detections_val2017.json").read_text())
    assert len(results) == len(detections)
    assert ap == _pycocotools_stats(coco_mini / GT, out)[0]


def test_det_box_validation_oks_nms_equals_alphapose(tiny_estimator, coco_mini):
    """validate --oks-nms on the 118 coco-val-mini detections equals the transcription of AlphaPose's
    oks_pose_nms applied to the plain det-box entries, with the crop boxes of the config's input aspect."""
    import dataclasses

    from posekit.evaluate.validate import det_box_results
    from tests.test_postprocess import _reference_oks_pose_nms

    cfg, estimator = tiny_estimator
    cfg = dataclasses.replace(cfg, data_preset=dataclasses.replace(cfg.data_preset, image_size=(128, 64)))
    det_file = coco_mini / "annotations/person_detections_val2017.json"
    plain, got = det_box_results(estimator, cfg, det_file), det_box_results(estimator, cfg, det_file, "oks")
    expected = []
    for image_id in dict.fromkeys(e["image_id"] for e in plain):
        entries = [e for e in plain if e["image_id"] == image_id]
        kps = np.array([e["keypoints"] for e in entries]).reshape(len(entries), 17, 3)
        boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (e["box"] for e in entries)])
        det = np.array([e["score"] for e in entries]) - kps[..., 2].mean(1) - 1.25 * kps[..., 2].max(1)
        picks, rescored = _reference_oks_pose_nms(boxes, det, kps[..., :2], kps[..., 2], aspect=0.5)
        expected += [{**entries[i], "score": score} for i, score in zip(picks, rescored)]
    assert 0 < len(got) == len(expected) < len(plain)
    for g, e in zip(got, expected):
        assert (g["image_id"], g["keypoints"], g["box"]) == (e["image_id"], e["keypoints"], e["box"])
        assert g["score"] == pytest.approx(e["score"], rel=1e-9)


def test_det_box_validation_creates_det_file(tiny_estimator, tmp_path, capsys, coco_mini):
    from posekit.detectors import DETECTOR_CLASSES, DETECTORS

    cfg, estimator = tiny_estimator
    cfg.dataset.test.det_file = str(tmp_path / "json" / "test_det.json")

    class OneBoxDetector:
        name = "fake"

        def __init__(self, **kwargs):
            pass

        def detect(self, images):
            from posekit.types import Detections

            return [Detections(np.array([[10.0, 10.0, 200.0, 300.0]]), np.array([0.9])) for _ in images]

    import sys
    import types

    module = types.ModuleType("posekit_test_fake_detector")
    module.OneBoxDetector = OneBoxDetector
    sys.modules[module.__name__] = module
    DETECTORS["fake"], DETECTOR_CLASSES["fake"] = "fake", (module.__name__, "OneBoxDetector")
    try:
        validate_det_boxes(estimator, cfg, tmp_path / "out.json", detector="fake")
    finally:
        del DETECTORS["fake"], DETECTOR_CLASSES["fake"]
    assert f"Will create detection results to {cfg.dataset.test.det_file}" in capsys.readouterr().out
    written = json.loads((tmp_path / "json" / "test_det.json").read_text())
    assert len(written) == 4 and written[0]["bbox"] == [10.0, 10.0, 190.0, 290.0]


def test_validate_cli_rejects_other_joint_count(coco_mini, tmp_path, capsys):
    other = tiny_config(coco_mini, **{"DATA_PRESET.NUM_JOINTS": 14})
    path = tmp_path / "k14.pth"
    torch.save(build_pose_model(other.model, other.data_preset).state_dict(), path)
    code = main(["validate", "--cfg", "configs/tests/tiny_res18_128x96.yaml", "--checkpoint", str(path)])
    assert code == 1
    assert "checkpoint predicts 14 joints" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [[], ["--ppose-nms", "--refine", "--flip-test"], ["--oks-nms"]])
def test_validate_seed_script_end_to_end(coco_mini, tmp_path, monkeypatch, capsys, extra):
    import runpy

    from devkit.train_helpers import REPO, TINY_CFG

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "coco").symlink_to(coco_mini)  # the config's ./data/coco/ paths
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    cfg = tiny_config(coco_mini)
    model = build_pose_model(cfg.model, cfg.data_preset)
    with torch.no_grad():
        model.conv_out.bias.fill_(0.5)  # peaks above pose NMS's 0.3 keypoint-score floor
    torch.save(model.state_dict(), tmp_path / "tiny.pth")
    script = runpy.run_path(str(REPO / "scripts/validate.py"), run_name="validate_shim")
    argv = [
        f"--cfg={TINY_CFG}",
        "--checkpoint=tiny.pth",
        "--batch",
        "8",
        "--num_workers",
        "2",
        "--gpus",
        "-1",
    ]
    assert script["main"](argv + extra) == 0
    out = capsys.readouterr().out
    gt_file, det_file = (
        tmp_path / "exp/json/validate_gt_kpt.json",
        tmp_path / "exp/json/validate_rcnn_kpt.json",
    )
    gt_ap = _pycocotools_stats(coco_mini / GT, gt_file)[0]
    det_ap = _pycocotools_stats(coco_mini / GT, det_file)[0]
    assert "Detection results exist, will use it" in out
    assert f"##### gt box: {gt_ap:.4f} mAP | det box: {det_ap:.4f} mAP #####" in out
    det_results = json.loads(det_file.read_text())
    assert list(det_results[0]) == ["image_id", "category_id", "keypoints", "score", "box", "idx"]
    detections = json.loads((coco_mini / "annotations/person_detections_val2017.json").read_text())
    if extra:  # pose NMS keeps at most one pose per detection, each with its proposal score
        assert 0 < len(det_results) <= len(detections)
    else:
        assert len(det_results) == len(detections)
    assert len(json.loads(gt_file.read_text())) == 12
