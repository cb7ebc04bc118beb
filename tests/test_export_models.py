"""Export of the real FastPose networks: the seed script, checkpoint checks, ResNet-50, backend agreement."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from posekit.cli.main import main
from posekit.config import load_config
from posekit.export.onnx import ExportOptions, export_onnx
from posekit.geometry import normalize_crops
from posekit.io.images import read_image_rgb
from posekit.models.builder import build_pose_model
from posekit.pose.runner import build_backend
from posekit.runtime.onnx_backend import OnnxBackend
from posekit.types import Detections
from tests.test_export import coco_crops

REPO = Path(__file__).resolve().parents[1]
TINY_CFG = REPO / "configs" / "tests" / "tiny_res18_128x96.yaml"
SEED_CFG = REPO / "configs" / "coco" / "resnet" / "256x192_res50_lr1e-3_1x.yaml"


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> tuple[Path, torch.nn.Module]:
    """A tiny FastPose (SE-ResNet-18, 128x96) with non-trivial BN statistics, saved as a plain state_dict."""
    cfg = load_config(TINY_CFG)
    torch.manual_seed(0)
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pth"
    torch.save(model.state_dict(), path)
    return path, model


def test_seed_script_exports_the_checkpoint(tmp_path, tiny_checkpoint, coco_mini):
    ckpt, model = tiny_checkpoint
    out = tmp_path / "alphapose_fastpose_cpu.onnx"
    args = [f"--cfg={TINY_CFG}", f"--input_pth={ckpt}", f"--output_onnx={out}"]
    result = subprocess.run(
        [sys.executable, "pthtar2onnx.py", *args], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert f"Loading model from {ckpt}..." in result.stdout
    assert "max abs difference from PyTorch on a crop of" in result.stdout
    loaded = onnx.load(str(out))
    assert [d.dim_value for d in loaded.graph.input[0].type.tensor_type.shape.dim] == [1, 3, 128, 96]
    assert [d.dim_value for d in loaded.graph.output[0].type.tensor_type.shape.dim] == [1, 17, 32, 24]
    crops, _ = coco_crops(coco_mini, (128, 96))
    batch = normalize_crops(crops)
    with torch.no_grad():
        want = model(torch.from_numpy(batch)).numpy()
    assert np.abs(OnnxBackend(out)(batch) - want).max() < 1e-4


@pytest.mark.parametrize("fault", ["renamed", "reshaped"])
def test_mismatching_checkpoint_fails_naming_the_key_before_writing(tmp_path, tiny_checkpoint, capsys, fault):
    ckpt, _ = tiny_checkpoint
    state = torch.load(ckpt)
    key = "preact.layer2.0.conv1.weight"
    if fault == "renamed":
        state[key + "_typo"] = state.pop(key)
    else:
        state[key] = state[key][:5]
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    out_dir = tmp_path / "out"
    args = ["--cfg", str(TINY_CFG), "--checkpoint", str(bad), "--output", str(out_dir / "m.onnx")]
    code = main(["export", "onnx", *args])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and key in err and err.count("\n") == 1
    assert not out_dir.exists() or list(out_dir.iterdir()) == []


def test_resnet50_export_matches_pytorch(tmp_path, coco_mini):
    cfg = load_config(SEED_CFG)
    torch.manual_seed(0)
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    report = export_onnx(model, tmp_path / "r50.onnx", (256, 192), ExportOptions(dynamic_batch=True))
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-4
    backend = build_backend("onnx", cfg, tmp_path / "r50.onnx")
    crops, _ = coco_crops(coco_mini, (256, 192))
    batch = normalize_crops(crops[:4])
    with torch.no_grad():
        want = model(torch.from_numpy(batch)).numpy()
    got = backend(batch)
    assert got.shape == (4, 17, 64, 48)
    assert np.abs(got - want).max() < 1e-4
    with pytest.raises(Exception, match=r"\(128, 96\)"):
        build_backend("onnx", load_config(TINY_CFG), tmp_path / "r50.onnx")


def test_onnx_estimator_keypoints_equal_torch_on_coco_people(tmp_path, tiny_checkpoint, coco_mini):
    from posekit.pose.estimator import TopDownEstimator

    ckpt, model = tiny_checkpoint
    cfg = load_config(TINY_CFG)
    export_onnx(model, tmp_path / "tiny.onnx", (128, 96), ExportOptions(batch=4))
    torch_est = TopDownEstimator.from_checkpoint(cfg, str(ckpt), backend="torch", precision="fp32")
    onnx_est = TopDownEstimator.from_checkpoint(cfg, str(tmp_path / "tiny.onnx"), backend="onnx", flip=True)
    torch_est.flip = True
    data = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    checked = 0
    for image in data["images"]:
        anns = [a for a in data["annotations"] if a["image_id"] == image["id"]]
        boxes = np.array(
            [
                [a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                for a in anns
            ]
        )
        rgb = read_image_rgb(coco_mini / "val2017" / image["file_name"])
        poses_t = torch_est.estimate(rgb, Detections.from_boxes(boxes))
        poses_o = onnx_est.estimate(rgb, Detections.from_boxes(boxes))
        kp_t, sc_t, kp_o, sc_o = poses_t.keypoints, poses_t.scores, poses_o.keypoints, poses_o.scores
        assert np.abs(kp_o - kp_t).max() <= 0.01
        assert np.abs(sc_o - sc_t).max() < 1e-4
        checked += len(boxes)
    assert checked == len(data["annotations"])
