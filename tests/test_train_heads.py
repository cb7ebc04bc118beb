"""Training each head (MSELoss, L1JointRegression, Combined) with AlphaPose's targets, losses and
weights; a Halpe-26 Labelme set (feet annotated) converts, trains a few steps and evaluates."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from posekit.config import config_from_dict
from posekit.convert import convert_labelme
from posekit.convert.sample import sample_document
from posekit.evaluate.coco import evaluate_keypoints
from posekit.models.fastpose import FastPose
from posekit.skeleton import HALPE_26, KEYPOINT_NAMES
from posekit.train.dataset import KeypointDataset
from posekit.train.loop import TrainOptions, train
from posekit.train.metrics import (
    _SymmetricIntegral,
    head_loss,
    heatmap_loss,
    integral_accuracy,
    l1_joint_loss,
)
from posekit.train.targets import head_targets, integral_targets


def test_integral_targets_are_normalised_input_coordinates():
    joints = np.array([[48.0, 32.0], [0.0, 0.0]])
    target, weight = integral_targets(joints, np.array([1, 0]), (128, 96))
    np.testing.assert_allclose(target, [0.0, -0.25, -0.5, -0.5])
    assert weight.tolist() == [1, 1, 0, 0]
    _, weight = integral_targets(np.zeros((136, 2)), np.ones(136), (128, 96))
    assert weight[:52].tolist() == [2] * 52 and weight[52:].tolist() == [1] * 220  # body+feet count twice


def test_combined_targets_split_body_heatmaps_and_face_hand_coordinates():
    (hm, coords), (hm_w, coord_w) = head_targets(
        "Combined", np.full((68, 2), 40.0), np.ones(68), (32, 24), (128, 96), 2
    )
    assert (
        hm.shape == (26, 32, 24)
        and hm_w.shape == (26, 1, 1)
        and coords.shape == (84,)
        and coord_w.shape == (84,)
    )
    assert hm[0, 10, 10] == 1.0  # 40 / 4 = 10
    assert coord_w.tolist() == [1.0] * 84  # only the 42 hand joints, none doubled


def test_symmetric_integral_gradient():
    prob = torch.tensor([[[0.5, 0.5]]], requires_grad=True)  # integrated coordinate 0.5
    _SymmetricIntegral.apply(prob).sum().backward()
    assert prob.grad.tolist() == [[[-2.0, 2.0]]]  # -AMPLITUDE below the coordinate, +AMPLITUDE at/above it


def test_l1_joint_loss_by_hand():
    output = torch.zeros(1, 1, 2, 2)  # uniform: x = y = 0.5 px -> 0.5 / 2 - 0.5 = -0.25
    target = torch.tensor([[0.0, 0.25]])
    weight = torch.tensor([[1.0, 2.0]])
    assert float(l1_joint_loss(output, target, weight)) == pytest.approx(0.25 * 1 + 0.5 * 2)
    assert integral_accuracy(output, target, weight) == 0.0  # masked targets at x <= 1 do not count


def test_combined_loss_weights():
    torch.manual_seed(0)
    output = torch.randn(2, 68, 8, 6)
    hm, hm_w = torch.rand(2, 26, 8, 6), torch.ones(2, 26, 1, 1)
    coords, coords_w = torch.rand(2, 84) - 0.5, torch.ones(2, 84)
    loss, acc = head_loss("Combined", "sigmoid", output, [hm, coords], [hm_w, coords_w])
    expected = 100 * heatmap_loss(output[:, :26], hm, hm_w) + 0.01 * l1_joint_loss(
        output[:, 26:], coords, coords_w, "sigmoid"
    )
    assert float(loss) == pytest.approx(float(expected))
    assert 0.0 <= acc <= 1.0


def test_each_head_trains_a_step():
    """FastPose at 64x32 (maps 16x8) takes two optimiser steps with each head's targets and loss."""
    torch.manual_seed(0)
    for loss_type, joints in (("MSELoss", 26), ("L1JointRegression", 26), ("Combined", 68)):
        model = FastPose(num_joints=joints, num_layers=18, conv_dim=16)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(0)
        samples = [
            head_targets(loss_type, rng.uniform(5, 30, (joints, 2)), np.ones(joints), (16, 8), (64, 32), 2)
            for _ in range(2)
        ]
        targets, weights = torch.utils.data.default_collate(samples)
        for _ in range(2):
            loss, acc = head_loss(loss_type, "softmax", model(torch.randn(2, 3, 64, 32)), targets, weights)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            assert torch.isfinite(loss) and 0.0 <= acc <= 1.0
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.conv_out.parameters())


_EXTRA = {  # Halpe-26's extra points relative to a figure's COCO points (fractions of its height)
    "head": ("nose", 0.0, -0.07),
    "left_big_toe": ("left_ankle", 0.04, 0.035),
    "right_big_toe": ("right_ankle", -0.04, 0.035),
    "left_small_toe": ("left_ankle", 0.07, 0.03),
    "right_small_toe": ("right_ankle", -0.07, 0.03),
    "left_heel": ("left_ankle", -0.01, 0.03),
    "right_heel": ("right_ankle", 0.01, 0.03),
}


def _halpe26_labelme(folder, count: int) -> None:
    """Synthetic figures with COCO's points plus head, neck, hip and the six foot points."""
    rng = np.random.default_rng(3)
    folder.mkdir()
    for i in range(1, count + 1):
        name = f"{i:04d}.jpg"
        document, image = sample_document(rng, name, max_people=2)
        cv2.imwrite(str(folder / name), image)
        for gid in {s["group_id"] for s in document["shapes"]}:
            points = {s["label"]: np.array(s["points"][0]) for s in document["shapes"]
                      if s["group_id"] == gid and s["shape_type"] == "point"}  # fmt: skip
            if not {"nose", "left_ankle", "right_ankle", "left_shoulder", "right_shoulder",
                    "left_hip", "right_hip"} <= set(points):  # fmt: skip
                continue
            height = points["left_ankle"][1] - points["nose"][1]
            extra = {
                name: points[src] + np.array([dx, dy]) * height for name, (src, dx, dy) in _EXTRA.items()
            }
            extra["neck"] = (points["left_shoulder"] + points["right_shoulder"]) / 2
            extra["hip"] = (points["left_hip"] + points["right_hip"]) / 2
            for label, xy in extra.items():
                shape = {"label": label.replace("_", " ").title(), "points": [xy.round(2).tolist()],
                         "group_id": gid, "shape_type": "point", "flags": {}}  # fmt: skip
                document["shapes"].append(shape)
        (folder / f"{i:04d}.json").write_text(json.dumps(document))


def test_halpe26_labelme_converts_trains_and_evaluates(tmp_path):
    _halpe26_labelme(tmp_path / "labelme", 10)
    summary = convert_labelme(tmp_path / "labelme", tmp_path / "out", ratio=0.3, keypoints="halpe_26")
    assert not summary.skipped
    root = tmp_path / "out" / "coco"
    val_ann = root / "annotations" / "person_keypoints_val2017.json"
    gt = json.loads(val_ann.read_text())
    assert gt["categories"][0]["keypoints"] == list(HALPE_26.names)
    assert {len(a["keypoints"]) for a in gt["annotations"]} == {78}
    assert any(a["keypoints"][3 * 20 + 2] > 0 for a in gt["annotations"])  # left big toe annotated
    split = {"TYPE": "Halpe_26", "ROOT": str(root), "AUG": {"ROT_FACTOR": 0, "SCALE_FACTOR": 0.0}}
    cfg = config_from_dict(
        {
            "DATASET": {
                "TRAIN": {
                    **split,
                    "IMG_PREFIX": "train2017",
                    "ANN": "annotations/person_keypoints_train2017.json",
                },
                "VAL": {**split, "IMG_PREFIX": "val2017", "ANN": "annotations/person_keypoints_val2017.json"},
            },
            "DATA_PRESET": {"NUM_JOINTS": 26, "IMAGE_SIZE": [128, 96], "HEATMAP_SIZE": [32, 24]},
            "MODEL": {"TYPE": "FastPose", "NUM_LAYERS": 18, "CONV_DIM": 32},
            "TRAIN": {"BATCH_SIZE": 8, "END_EPOCH": 1},
        }
    )
    data = KeypointDataset(cfg, cfg.dataset.train, train=True)
    assert data.pairs == list(HALPE_26.flip_pairs) and data.keypoint_names[:17] == list(KEYPOINT_NAMES)
    opts = TrainOptions(cfg=cfg, work_root=tmp_path / "exp", num_workers=0, snapshot=1, device="cpu")
    record = train(opts).history[0]
    results = tmp_path / "exp" / "default-config.yaml" / "test_gt_kpt.json"
    entries = json.loads(results.read_text())
    assert {len(e["keypoints"]) for e in entries} == {78}
    assert np.isfinite(record["loss"]) and evaluate_keypoints(val_ann, results)["AP"] == record["gt_map"]
