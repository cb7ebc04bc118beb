"""Training pieces: targets, acc, dataset crops on real annotations, resume equivalence, DDP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from devkit.train_helpers import REPO, TINY_CFG, tiny_config
from posekit.config import DatasetSplit, load_config
from posekit.errors import PosekitError
from posekit.geometry import box_to_center_scale, center_scale_to_box, heatmap_to_image_coords
from posekit.io.coco import read_coco_people
from posekit.io.images import read_image_rgb
from posekit.train import loop, metrics
from posekit.train.dataset import KeypointDataset, dpg_box, half_body_center_scale
from posekit.train.loop import RESUME_FILE, TrainOptions, train
from posekit.train.metrics import heatmap_accuracy, heatmap_loss
from posekit.train.targets import gaussian_targets


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


def test_without_aug_section_training_crops_are_neither_scaled_nor_rotated(coco_mini, tmp_path):
    """No DATASET.TRAIN.AUG: AlphaPose trains with scale and rotation factor 0 (facts §13), so every
    training crop is the person box's own crop (aspect-fixed, x1.25), mirrored by the flip or not."""
    text = TINY_CFG.read_text()
    cfg_file = tmp_path / "no_aug.yaml"
    cfg_file.write_text(text[: text.index("    AUG:")] + text[text.index("  VAL:") :])
    cfg = load_config(cfg_file, {f"DATASET.{s}.ROOT": str(coco_mini) for s in ("TRAIN", "VAL", "TEST")})
    data = KeypointDataset(cfg, cfg.dataset.train, train=True)
    flipped = 0
    for index in range(len(data)):
        _, _, _, _, crop_box = data[index]
        person = data.people[index]
        x1, y1, x2, y2 = person.box
        center, scale = box_to_center_scale(x1, y1, x2 - x1, y2 - y1, 96 / 128)
        width = read_image_rgb(person.image_path).shape[1]
        mirrored = center_scale_to_box(np.array([width - center[0] - 1, center[1]]), scale)
        own = center_scale_to_box(center, scale)
        assert np.allclose(crop_box, own, atol=1e-3) or np.allclose(crop_box, mirrored, atol=1e-3)
        flipped += not np.allclose(crop_box, own, atol=1e-3)
    assert 0 < flipped < len(data)  # flip stays on


def test_half_body_centre_is_the_mean_of_the_chosen_joints():
    points = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 40.0], [2.0, 8.0]])
    center, scale = half_body_center_scale(points, aspect_ratio=0.75)
    assert center.tolist() == [3.0, 12.0]  # the mean; the joints' box centre is (5, 20)
    assert scale.tolist() == [45.0, 60.0]  # 10x40 widened to 30x40 (w/h 0.75), times 1.5
    center, scale = half_body_center_scale(np.array([[0.0, 0.0], [80.0, 20.0], [40.0, 4.0]]), 0.75)
    assert center.tolist() == [40.0, 8.0] and scale.tolist() == [120.0, 160.0]  # 80x20 -> 80x(80/0.75)


def test_half_body_picks_the_upper_body_when_the_legs_are_hidden(coco_mini):
    cfg = tiny_config(coco_mini, **{"DATASET.TRAIN.AUG.PROB_HALF_BODY": 1.0})
    data = KeypointDataset(cfg, cfg.dataset.train, train=True)
    rng = np.random.default_rng(0)
    joints = rng.uniform(0, 200, (17, 2))
    visible = np.ones(17, dtype=np.float32)
    visible[[11, 12, 13, 14]] = 0  # 13 visible (> 8), only 2 of them lower-body: the upper set is chosen
    box_center, box_scale = np.array([100.0, 100.0]), np.array([150.0, 200.0])
    center, scale = data._half_body(joints, visible, box_center, box_scale, rng)
    np.testing.assert_allclose(center, joints[:11].mean(axis=0))
    assert scale.tolist() == half_body_center_scale(joints[:11], 96 / 128)[1].tolist()
    visible[:] = 0
    visible[:8] = 1  # 8 visible joints: not more than NUM_JOINTS_HALF_BODY, so the box is kept
    assert data._half_body(joints, visible, box_center, box_scale, rng) == (box_center, box_scale)


def _alphapose_add_dpg(box, width, height, rng):
    """Transcription of AlphaPose's addDPG (facts §13), drawing from `rng` in the order listed there."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    patch_scale = rng.uniform(0, 1)
    if patch_scale > 0.85:
        ratio = h / w
        if w < h:
            patch_w = patch_scale * w
            patch_h = patch_w * ratio
        else:
            patch_h = patch_scale * h
            patch_w = patch_h / ratio
        xmin = x1 + rng.uniform(0, 1) * (w - patch_w)
        ymin = y1 + rng.uniform(0, 1) * (h - patch_h)
        return [xmin, ymin, xmin + patch_w + 1, ymin + patch_h + 1], True
    xmin = max(1, min(x1 + rng.normal(-0.0142, 0.1158) * w, width - 3))
    ymin = max(1, min(y1 + rng.normal(0.0043, 0.068) * h, height - 3))
    xmax = min(max(xmin + 2, x2 + rng.normal(0.0154, 0.1337) * w), width - 3)
    ymax = min(max(ymin + 2, y2 + rng.normal(-0.0013, 0.0711) * h), height - 3)
    return [xmin, ymin, xmax, ymax], False


def test_dpg_box_jitter_equals_alphapose_add_dpg(coco_mini):
    cfg = tiny_config(coco_mini)
    people, _ = read_coco_people(cfg.dataset.val, 17)
    image_size = (640, 480)  # W x H: the coco-val-mini images are about this size
    boxes = [p.box for p in people] + [(0.0, 0.0, 639.0, 479.0), (600.0, 300.0, 639.0, 479.0)]  # edges
    patches = 0
    for seed in range(150):
        for box in boxes:
            got = dpg_box(box, *image_size, np.random.default_rng([seed, 1]))
            expected, patch = _alphapose_add_dpg(box, *image_size, np.random.default_rng([seed, 1]))
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
            patches += patch
            w, h = box[2] - box[0], box[3] - box[1]
            pw, ph = got[2] - got[0] - 1, got[3] - got[1] - 1
            if patch:  # a sub-patch of the box's aspect, 85-100 % of its size, +1 px, may pass the image
                assert ph / pw == pytest.approx(h / w) and 0.85 * w < pw <= w
                assert box[0] <= got[0] <= box[2] - pw and box[1] <= got[1] <= box[3] - ph
            else:  # Gaussian edges clipped to 1 .. W-3 / H-3
                assert 1 <= got[0] <= got[2] <= image_size[0] - 3
                assert 1 <= got[1] <= got[3] <= image_size[1] - 3
    assert 0.12 < patches / (150 * len(boxes)) < 0.18  # PatchScale > 0.85 about 15 % of the time


def test_bad_annotation_file(tmp_path):
    cfg = tiny_config(tmp_path)
    with pytest.raises(PosekitError, match="annotation file not found"):
        KeypointDataset(cfg, cfg.dataset.train, train=True)


def test_listed_roots_find_an_image_by_its_coco_url_under_the_first_root(tmp_path):
    # ROOT, ANN, IMG_PREFIX as lists (multi-dataset configs): the first dataset is read, and an image
    # missing from its IMG_PREFIX folder is looked up from its coco_url under the first ROOT.
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "annotations").mkdir(parents=True)
    (first / "val2017").mkdir()
    cv2.imwrite(str(first / "val2017" / "x.jpg"), np.full((100, 80, 3), 128, np.uint8))
    keypoints = [v for i in range(17) for v in (20.0 + i, 30.0 + i, 2)]
    document = {
        "images": [{"id": 7, "file_name": "x.jpg", "coco_url": "http://h/val2017/x.jpg", "width": 80,
                    "height": 100}],
        "annotations": [{"id": 1, "image_id": 7, "keypoints": keypoints, "bbox": [10, 20, 40, 60],
                         "area": 2400, "num_keypoints": 17}],
        "categories": [{"id": 1, "keypoints": [f"joint{i}" for i in range(17)]}],
    }  # fmt: skip
    (first / "annotations" / "people.json").write_text(json.dumps(document), encoding="utf-8")
    split = DatasetSplit(
        root=[str(first), str(second)],
        ann=["annotations/people.json", "annotations/other.json"],
        img_prefix=["images", "images"],
    )
    data = KeypointDataset(tiny_config(tmp_path), split, train=False)
    assert [(p.image_path, p.image_id) for p in data.people] == [(first / "val2017" / "x.jpg", 7)]
    assert data[0][0].shape == (3, 128, 96)


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
    assert "Loaded 140 of 146 tensors whose name and shape match" in capsys.readouterr().out


def test_config_pretrained_and_try_load_are_used_and_flags_win(coco_mini, tmp_path, capsys):
    first = train(_options(tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 1}), tmp_path / "first"))
    resume_file, weights = first.work_dir / RESUME_FILE, first.work_dir / "final_DPG.pth"
    capsys.readouterr()
    cfg = tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 1, "MODEL.PRETRAINED": str(resume_file)})
    resumed = train(_options(cfg, tmp_path / "resumed"))
    out = capsys.readouterr().out
    assert f"Loading model from {resume_file}..." in out and "Resuming after epoch 0" in out
    assert "Starting Epoch" not in out and resumed.history == first.history
    for key, value in torch.load(weights).items():
        assert torch.equal(resumed.model.state_dict()[key], value), key
    cfg = tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 0, "MODEL.TRY_LOAD": str(weights)})
    train(_options(cfg, tmp_path / "transfer"))
    assert "Loaded 146 of 146 tensors whose name and shape match" in capsys.readouterr().out
    # A flag wins over the config: MODEL.PRETRAINED names no file and is not read.
    cfg = tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 0, "MODEL.PRETRAINED": str(tmp_path / "absent.pth")})
    train(_options(cfg, tmp_path / "flag", try_load=str(weights)))
    loads = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Loading model")]
    assert loads == [f"Loading model from {weights}..."]


def test_detector_option_reaches_det_box_validation(coco_mini, tmp_path, monkeypatch):
    import posekit.evaluate.validate as validate

    calls = []

    def fake_det_boxes(pose_model, cfg, out_json, detector=None, nms=None, device="cpu"):
        calls.append((detector, device))
        return 0.25

    monkeypatch.setattr(validate, "validate_det_boxes", fake_det_boxes)
    cfg = tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 1})
    opts = TrainOptions(
        cfg=cfg, work_root=tmp_path, num_workers=0, snapshot=1, device="cpu", detector="yolox-s"
    )
    summary = train(opts)
    assert calls == [("yolox-s", "cpu")]
    assert summary.history[0]["det_map"] == 0.25
    assert "| rcnn mAP: 0.2500 #####" in (summary.work_dir / "training.log").read_text()


@pytest.mark.parametrize("native_bf16", [True, False])
def test_amp_uses_bf16_only_on_cpus_with_native_bf16(coco_mini, tmp_path, monkeypatch, native_bf16):
    monkeypatch.setattr(loop, "cpu_has_native_bf16", lambda: native_bf16)
    dtypes = []

    def spy_accuracy(output, target, weight):
        dtypes.append(output.dtype)
        return heatmap_accuracy(output, target, weight)

    monkeypatch.setattr(metrics, "heatmap_accuracy", spy_accuracy)  # head_loss calls it
    cfg = tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 1})
    summary = train(_options(cfg, tmp_path, amp=True, device="cpu"))
    assert dtypes == [torch.bfloat16 if native_bf16 else torch.float32] * 2  # 12 people, batch 8
    skipped = "--amp skipped: this CPU has no native bf16 (AVX512-BF16 or AMX), training in fp32"
    assert (summary.work_dir / "training.log").read_text().count(skipped) == (0 if native_bf16 else 1)
    assert np.isfinite(summary.history[0]["loss"])


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
    assert rank0.keys() == rank1.keys() and len(rank0) == 80  # every learnable tensor of the tiny ResNet-18
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    log = next(tmp_path.glob("exp/*/training.log")).read_text()
    assert log.count("Train-0 epoch") == 1  # rank 0 logs alone


def _alphapose_dpg_schedule(end_epoch, lr, lr_step, lr_factor, milestone, dpg_step):
    """Transcription of AlphaPose's epoch loop (facts §13): per epoch i the LR it trains at and whether DPG
    is on; after training epoch i (scheduler stepped, snapshot done) and only if i == DPG_MILESTONE,
    final.pth is saved, the LR goes back to TRAIN.LR, a new MultiStepLR on the relative DPG_STEP
    replaces the scheduler and DPG is on from the next epoch."""
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=lr)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, lr_step, lr_factor)
    epochs, dpg, final_after = [], False, None
    for i in range(end_epoch):
        epochs.append((optimizer.param_groups[0]["lr"], dpg))
        optimizer.step()
        scheduler.step()
        if i == milestone:
            final_after = i
            for group in optimizer.param_groups:
                group["lr"] = lr
            relative = [s - milestone for s in dpg_step]
            scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, relative, lr_factor)
            dpg = True
    return epochs, final_after


def test_dpg_milestone_saves_final_resets_lr_and_jitters_boxes(coco_mini, tmp_path, monkeypatch):
    """After epoch DPG_MILESTONE (as AlphaPose, not before it): final.pth holds the weights of that
    epoch, the LR goes back to TRAIN.LR with DPG_STEP counted from the milestone, and boxes are jittered
    from the next epoch on; the effective config is logged."""
    jittered_epochs = []
    real_jitter = KeypointDataset._jitter

    def spy(self, box, shape, rng):
        jittered_epochs.append(self.epoch)
        return real_jitter(box, shape, rng)

    monkeypatch.setattr(KeypointDataset, "_jitter", spy)
    overrides = {"TRAIN.END_EPOCH": 4, "TRAIN.LR_STEP": [1], "TRAIN.DPG_MILESTONE": 1, "TRAIN.DPG_STEP": [2]}
    summary = train(_options(tiny_config(coco_mini, **overrides), tmp_path))
    expected, final_after = _alphapose_dpg_schedule(4, 1e-3, [1], 0.1, 1, [2])
    assert [lr for lr, _ in expected] == pytest.approx([1e-3, 1e-4, 1e-3, 1e-4])  # the transcription itself
    assert [h["lr"] for h in summary.history] == pytest.approx([lr for lr, _ in expected])
    assert sorted(set(jittered_epochs)) == [e for e, (_, dpg) in enumerate(expected) if dpg] == [2, 3]
    final = torch.load(summary.work_dir / "final.pth", weights_only=True)
    after = torch.load(summary.work_dir / f"model_{final_after}.pth", weights_only=True)  # snapshot 1
    before = torch.load(summary.work_dir / f"model_{final_after - 1}.pth", weights_only=True)
    assert all(torch.equal(v, after[k]) for k, v in final.items())  # the weights after epoch 1 ...
    assert any(v.is_floating_point() and not torch.equal(v, before[k]) for k, v in final.items())  # ... not 0
    state = torch.load(summary.work_dir / RESUME_FILE, weights_only=False)
    assert state["dpg"] is True and state["epoch"] == 3
    log = (summary.work_dir / "training.log").read_text()
    assert log.startswith("Effective configuration:") and "NUM_LAYERS: 18" in log
    assert "############# Starting Epoch 1 | LR: 0.0001 #############" in log
    assert "############# Starting Epoch 2 | LR: 0.001 #############" in log
