"""Training pieces: targets, acc, dataset crops on real annotations, resume equivalence, DDP."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from posekit.errors import PosekitError
from posekit.geometry import heatmap_to_image_coords
from posekit.train.dataset import KeypointDataset, read_coco_people
from posekit.train.loop import RESUME_FILE, TrainOptions, train
from posekit.train.metrics import heatmap_accuracy, heatmap_loss
from posekit.train.targets import gaussian_targets
from tests.train_helpers import REPO, tiny_config


def test_gaussian_target_peak_window_and_weights():
    joints = np.array([[50.0, 70.0], [10.0, 10.0], [500.0, 500.0]])
    target, weight = gaussian_targets(joints, np.array([1, 0, 1]), (64, 48), (256, 192), sigma=2)
    assert target.shape == (3, 64, 48) and weight.shape == (3, 1, 1)
    assert np.unravel_index(target[0].argmax(), (64, 48)) == (18, 13)  # int(70/4+.5), int(50/4+.5)
    assert target[0].max() == 1.0
    assert np.count_nonzero(target[0]) == 13 * 13
    assert target[0, 18, 13 + 6] == pytest.approx(np.exp(-36 / 8))
    assert weight.ravel().tolist() == [1.0, 0.0, 0.0]  # invisible; window fully outside
    assert not target[1].any() and not target[2].any()


def test_accuracy_and_loss():
    target, weight = gaussian_targets(
        np.array([[40.0, 40.0], [100.0, 150.0]]), np.array([1, 1]), (64, 48), (256, 192), 2
    )
    t = torch.from_numpy(target)[None]
    w = torch.from_numpy(weight)[None]
    assert heatmap_accuracy(t, t, w) == 1.0
    assert heatmap_loss(t, t, w).item() == 0.0
    shifted = torch.roll(t, shifts=(0, 5), dims=(2, 3))  # 5 px along x > 0.5 * 4.8
    assert heatmap_accuracy(shifted, t, w) == 0.0
    half = torch.stack([t[0, 0], shifted[0, 1]])[None]
    assert heatmap_accuracy(half, t, w) == 0.5
    assert heatmap_accuracy(shifted, t, torch.zeros_like(w)) == 0.0  # nothing counts
    assert heatmap_loss(shifted, t, w).item() == pytest.approx(0.5 * ((shifted - t) ** 2).mean().item())


def test_dataset_reads_real_people_and_targets_land_on_joints(coco_mini):
    cfg = tiny_config(coco_mini)
    people, names = read_coco_people(cfg.dataset.val, 17)
    assert len(people) == 12  # 14 annotations, 2 without keypoints
    assert names[5] == "left_shoulder"
    data = KeypointDataset(cfg, cfg.dataset.val, train=False)
    for index in range(len(data)):
        image, target, weight, image_id, crop_box = data[index]
        assert image.shape == (3, 128, 96) and target.shape == (17, 32, 24)
        person = data.people[index]
        assert image_id == person.image_id
        vis = weight.ravel() > 0
        assert np.array_equal(vis, person.visible > 0)
        peaks = np.array([np.unravel_index(t.argmax(), t.shape)[::-1] for t in target], dtype=float)
        back = heatmap_to_image_coords(peaks[None], crop_box[None], (32, 24))[0]
        cell = (crop_box[2] - crop_box[0]) / 24  # one heatmap pixel in image pixels
        err = np.abs(back[vis] - person.joints[vis])
        assert err.max() <= cell * 0.5 + 1e-3


def test_training_augmentation_keeps_joints_on_targets(coco_mini):
    cfg = tiny_config(coco_mini, **{"DATASET.TRAIN.AUG.PROB_HALF_BODY": 0.3})
    data = KeypointDataset(cfg, cfg.dataset.train, train=True)
    for epoch in range(3):
        data.set_epoch(epoch)
        for index in range(len(data)):
            image, target, weight, _, _ = data[index]
            assert np.isfinite(image).all()
            kept = weight.ravel() > 0
            # a kept joint's Gaussian window reaches the map (peak 1 when its centre is inside)
            assert np.all(target[kept].max(axis=(1, 2)) > 0)
            assert not target[~kept].any()


def test_bad_annotation_file(tmp_path):
    cfg = tiny_config(tmp_path)
    with pytest.raises(PosekitError, match="annotation file not found"):
        KeypointDataset(cfg, cfg.dataset.train, train=True)


def _options(cfg, tmp_path, **kw):
    return TrainOptions(cfg=cfg, work_root=tmp_path, num_workers=0, validate=False, snapshot=1, **kw)


def test_resume_equals_uninterrupted(coco_mini, tmp_path):
    cfg2 = tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 2, "TRAIN.LR_STEP": [1]})
    full = train(_options(cfg2, tmp_path / "full"))
    cfg1 = tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 1, "TRAIN.LR_STEP": [1]})
    first = train(_options(cfg1, tmp_path / "part"))
    resumed = train(_options(cfg2, tmp_path / "part", pretrained=str(first.work_dir / RESUME_FILE)))
    a = torch.load(full.work_dir / RESUME_FILE, weights_only=False)
    b = torch.load(resumed.work_dir / RESUME_FILE, weights_only=False)
    assert a["epoch"] == b["epoch"] == 1
    assert [h["epoch"] for h in b["history"]] == [0, 1]
    assert a["scheduler"]["last_epoch"] == b["scheduler"]["last_epoch"] == 2
    assert (
        a["optimizer"]["param_groups"][0]["lr"]
        == b["optimizer"]["param_groups"][0]["lr"]
        == pytest.approx(1e-4)
    )
    for key, value in a["optimizer"]["state"].items():
        torch.testing.assert_close(
            value["exp_avg"], b["optimizer"]["state"][key]["exp_avg"], rtol=1e-4, atol=1e-6
        )
    for key, value in a["model"].items():
        torch.testing.assert_close(value, b["model"][key], rtol=1e-4, atol=1e-5)
    log = (resumed.work_dir / "training.log").read_text()
    assert "############# Starting Epoch 1 | LR: 0.0001 #############" in log
    assert "Train-1 epoch | loss:" in log
    assert (resumed.work_dir / "final_DPG.pth").is_file() and (resumed.work_dir / "curves.png").is_file()


def test_try_load_reports_matching_tensors(coco_mini, tmp_path, capsys):
    from posekit.models.builder import build_pose_model

    cfg = tiny_config(coco_mini)
    source = tmp_path / "source.pth"
    torch.save(build_pose_model(cfg.model, cfg.data_preset).state_dict(), source)
    other = tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 0, "MODEL.CONV_DIM": 32})
    train(_options(other, tmp_path / "transfer", try_load=str(source)))
    # conv dim 32 changes duc2 and conv_out weights (6 tensors); everything else matches.
    assert "Loaded 144 of 150 tensors whose name and shape match" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform != "linux", reason="torchrun gloo test runs on Linux")
def test_ddp_two_processes_hold_identical_weights(coco_mini, tmp_path):
    worker = REPO / "tests" / "ddp_worker.py"
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29517",
           str(worker), str(coco_mini), str(tmp_path)]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pth")
    rank1 = torch.load(tmp_path / "rank1.pth")
    assert rank0.keys() == rank1.keys() and len(rank0) == 84  # every learnable tensor
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    log = next(tmp_path.glob("exp/*/training.log")).read_text()
    assert log.count("Train-0 epoch") == 1  # rank 0 logs alone
