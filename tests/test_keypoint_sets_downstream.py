"""Everything after decoding works for any keypoint set: drawing, results json, pose NMS, trackers,
smoothing, and OKS AP with the set's sigmas (equal to pycocotools called with them)."""

from __future__ import annotations

import contextlib
import io
import json

import numpy as np
import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from posekit.errors import PosekitError
from posekit.evaluate.coco import evaluate_keypoints, oks_sigmas
from posekit.io.results import openpose_people, write_results
from posekit.pose.nms import pose_nms
from posekit.render.draw import draw_poses
from posekit.skeleton import HALPE_26, HALPE_136, KEYPOINT_SETS, set_for_joints
from posekit.track.oks import OksTracker, oks_matrix
from posekit.track.poseflow import PoseFlowTracker
from posekit.track.smoothing import TrackSmoother
from posekit.types import PoseResult


def _one(keypoints: np.ndarray, scores: np.ndarray) -> PoseResult:
    return PoseResult(
        boxes=np.array([[0.0, 0.0, 200.0, 200.0]]),
        box_scores=np.array([0.9]),
        keypoints=keypoints[None],
        keypoint_scores=scores[None],
        scores=np.array([2.0]),
        ids=[1],
    )


def test_halpe26_limb_colour_and_halpe136_white_face():
    image = np.zeros((200, 200, 3), np.uint8)
    kps, scores = np.zeros((26, 2)), np.zeros(26)
    kps[5], kps[18] = (20, 100), (120, 100)
    scores[[5, 18]] = 0.9
    drawn = draw_poses(image, _one(kps, scores), fast=True)
    assert tuple(drawn[100, 70]) == HALPE_26.limb_colors[4] == (0, 255, 102)  # limb (5, 18)
    kps, scores = np.zeros((136, 2)), np.zeros(136)
    kps[26], kps[27], kps[60] = (30, 50), (130, 50), (100, 150)
    scores[[26, 27]], scores[60] = 0.9, 0.3
    fast = draw_poses(image, _one(kps, scores), fast=True, kp_thresh=0.2)
    assert tuple(fast[50, 80]) == (255, 255, 255)  # face limb: white, 1 px
    assert tuple(fast[51, 80]) == (0, 0, 0)
    blended = draw_poses(image, _one(kps, scores), kp_thresh=0.2)
    assert tuple(blended[150, 100 + 2]) == (153,) * 3  # face point: white ring, alpha = 2 * 0.3


def test_results_json_keeps_every_joint_and_openpose_uses_the_sets_neck(tmp_path):
    kps = np.arange(52, dtype=float).reshape(26, 2)
    scores = np.linspace(0.1, 0.9, 26)
    result = _one(kps, scores)
    path = write_results([("a.jpg", result)], tmp_path)
    entry = json.loads(path.read_text())[0]
    assert len(entry["keypoints"]) == 78 and entry["keypoints"][-3:] == [50.0, 51.0, 0.9]
    person = openpose_people(result)[0]
    assert person[3:6] == [36.0, 37.0, pytest.approx(scores[18])]  # OpenPose's neck = Halpe's neck (18)
    assert person[:3] == [0.0, 1.0, pytest.approx(0.1)]
    write_results([("a.jpg", result)], tmp_path / "cmu", fmt="cmu")
    hand = _one(np.zeros((21, 2)), np.ones(21))
    with pytest.raises(PosekitError, match="COCO's 17 body joints"):
        openpose_people(hand)


@pytest.mark.parametrize("name", list(KEYPOINT_SETS))
def test_pose_nms_trackers_and_smoothing_run_for_every_set(name):
    k = KEYPOINT_SETS[name].num_joints
    rng = np.random.default_rng(k)
    base = rng.uniform(20, 120, (k, 2))
    poses = np.stack([base, base + 0.5, base + 300])  # two duplicates and one other person
    boxes = np.array([[0, 0, 150, 150], [0, 0, 150, 150], [300, 300, 450, 450]], float)
    scores = np.full((3, k), 0.8)
    for method in ("parametric", "oks"):
        kept = pose_nms(boxes, np.full(3, 0.9), poses, scores, method=method)
        assert len(kept) == 2 and kept.keypoints.shape[1:] == (k, 2)
    trackers = (OksTracker(), PoseFlowTracker(), TrackSmoother(fps=25.0))
    for tracker in trackers:
        ids = []
        for step in range(3):
            frame = PoseResult(boxes[[0, 2]] + step, np.full(2, 0.9), poses[[0, 2]] + step,
                               scores[[0, 2]], np.full(2, 2.0), [1, 2])  # fmt: skip
            out = tracker(frame) if isinstance(tracker, TrackSmoother) else tracker.update(None, frame)
            ids.append(list(out.ids))
            assert out.keypoints.shape == (2, k, 2)
        assert ids[0] == ids[1] == ids[2]


def test_tracker_oks_uses_the_sets_sigmas():
    kps = np.zeros((1, 26, 2))
    moved = kps + np.array([3.0, 4.0])  # 5 px for every joint
    valid = np.ones((1, 26), bool)
    area = np.array([100.0])
    expected = np.mean(np.exp(-25.0 / (2 * 100.0 * (2 * HALPE_26.oks_sigmas) ** 2)))
    assert oks_matrix(kps, valid, moved, valid, area)[0, 0] == pytest.approx(expected)


def _gt_and_results(k: int, tmp_path, rng) -> tuple:
    names = list(set_for_joints(k).names)
    images, anns, results = [], [], []
    for i in range(1, 7):
        images.append({"id": i, "file_name": f"{i:012d}.jpg", "width": 640, "height": 480})
        kps = np.column_stack([rng.uniform(100, 300, k), rng.uniform(100, 400, k), np.full(k, 2)])
        ann = {"id": i, "image_id": i, "category_id": 1, "iscrowd": 0, "area": 40000.0}
        anns.append(
            {**ann, "bbox": [100, 100, 200, 300], "num_keypoints": k, "keypoints": kps.ravel().tolist()}
        )
        noisy = kps.copy()
        noisy[:, :2] += rng.normal(0, 4.0, (k, 2))
        noisy[:, 2] = rng.uniform(0.3, 1.0, k)
        results.append({"image_id": i, "category_id": 1, "keypoints": noisy.ravel().tolist(),
                        "score": float(rng.uniform(0.5, 3))})  # fmt: skip
    gt = {"images": images, "annotations": anns,
          "categories": [{"id": 1, "name": "person", "keypoints": names, "skeleton": []}]}  # fmt: skip
    gt_path, res_path = tmp_path / f"gt{k}.json", tmp_path / f"res{k}.json"
    gt_path.write_text(json.dumps(gt))
    res_path.write_text(json.dumps(results))
    return gt_path, res_path


@pytest.mark.parametrize("k", [26, 133, 136, 21])
def test_eval_equals_pycocotools_with_the_sets_sigmas(tmp_path, k):
    gt_path, res_path = _gt_and_results(k, tmp_path, np.random.default_rng(k))
    sigmas = set_for_joints(k).oks_sigmas
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        evaluator = COCOeval(gt, gt.loadRes(str(res_path)), "keypoints")
        evaluator.params.kpt_oks_sigmas = sigmas
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = evaluate_keypoints(gt_path, res_path)
    assert list(stats.values()) == list(evaluator.stats)
    assert 0.0 < stats["AP"] < 1.0
    np.testing.assert_array_equal(oks_sigmas(k), sigmas)
    if k == 136:
        assert sigmas[100] == 0.025 and HALPE_136.num_joints == k


def test_whole_body_pose_nms_terms_by_hand():
    from posekit.pose.nms import BODY, WHOLE_BODY_REGRESSION, _whole_body_matches, _whole_body_similarity

    dist = np.stack([np.zeros(136), np.full(136, 10.0)])
    pick = np.where(np.arange(136) < 100, 0.8, 0.1)  # 100 joints above 0.3 / 2
    # row 0: all 136 match; row 1 (10 px, ref 7): only the 68 face points (1.43 <= 1.9) -> x 136 / 800
    np.testing.assert_allclose(_whole_body_matches(dist, pick, 7.0, BODY), [136 * 136 / 800, 68 * 136 / 800])
    candidates = np.full((1, 136), 0.2)  # below 0.3: score term counts, distance term is zeroed
    simi = _whole_body_similarity(np.zeros((1, 136)), np.full(136, 0.8), candidates, BODY)
    assert simi[0] == pytest.approx(np.tanh(0.8) * np.tanh(0.2) * (1 + 1.0 + 0.1))
    confident = np.full((1, 136), 0.9)  # above 0.01 (regression constants): only the distance term
    simi = _whole_body_similarity(np.zeros((1, 136)), np.full(136, 0.8), confident, WHOLE_BODY_REGRESSION)
    assert simi[0] == pytest.approx(1.65 * (1 + 1.0 + 1.5))
