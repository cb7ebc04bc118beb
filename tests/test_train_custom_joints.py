"""A custom keypoint set (5 of COCO's joints) trains and validates with no code change."""

from __future__ import annotations

import json

import numpy as np
import torch

from devkit.train_helpers import keypoint_subset, tiny_config
from posekit.train.dataset import KeypointDataset
from posekit.train.loop import TrainOptions, train

JOINTS = [0, 5, 6, 11, 12]  # nose, shoulders, hips


def test_five_joint_dataset_trains_and_validates(coco_mini, tmp_path):
    root = keypoint_subset(coco_mini, tmp_path / "k5", JOINTS)
    cfg = tiny_config(root, **{"DATA_PRESET.NUM_JOINTS": 5, "TRAIN.END_EPOCH": 1, "TRAIN.BATCH_SIZE": 4})
    data = KeypointDataset(cfg, cfg.dataset.train, train=True)
    assert data.keypoint_names == ["nose", "left_shoulder", "right_shoulder", "left_hip", "right_hip"]
    assert data.pairs == [(1, 2), (3, 4)]
    assert data[0][1].shape == (5, 32, 24) and data[0][2].shape == (5, 1, 1)
    opts = TrainOptions(cfg=cfg, work_root=tmp_path / "exp", num_workers=0, snapshot=1, device="cpu")
    summary = train(opts)
    record = summary.history[0]
    assert 0.0 <= record["gt_map"] <= 1.0 and 0.0 <= record["det_map"] <= 1.0
    log = (summary.work_dir / "training.log").read_text()
    assert f"##### Epoch 0 | gt mAP: {record['gt_map']:.4f} | rcnn mAP: {record['det_map']:.4f} #####" in log
    gt_results = json.loads((summary.work_dir / "test_gt_kpt.json").read_text())
    assert len(gt_results) == len(data.people) and {len(r["keypoints"]) for r in gt_results} == {15}
    with torch.no_grad():
        heatmaps = summary.model.eval()(torch.zeros(1, 3, 128, 96))
    assert heatmaps.shape == (1, 5, 32, 24)
    assert np.isfinite(record["loss"])
