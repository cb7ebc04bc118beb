"""The OpenVINO backend: same heatmaps as PyTorch, output conv kept in fp32, chosen by --backend auto."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from posekit.config import load_config
from posekit.errors import PosekitError
from posekit.models.builder import build_pose_model
from posekit.pose.estimator import TopDownEstimator
from posekit.pose.runner import build_backend
from posekit.runtime import resolve_backend
from posekit.runtime.openvino_backend import OpenVinoBackend, split_output_conv
from posekit.types import Detections
from tests.test_export import coco_crops, normalize_crops
from tests.test_export_models import TINY_CFG

pytest.importorskip("openvino")


@pytest.fixture(scope="module")
def tiny_fastpose(tmp_path_factory):
    """A tiny FastPose (SE-ResNet-18, 128x96) with non-trivial BN statistics and its checkpoint file."""
    cfg = load_config(TINY_CFG)
    torch.manual_seed(0)
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("ckpt") / "tiny.pth"
    torch.save(model.state_dict(), path)
    return cfg, model, path


def torch_heatmaps(model: nn.Module, batch: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model(torch.from_numpy(batch)).numpy()


def test_split_keeps_fastpose_output_conv_and_refuses_a_conv_that_is_not_last():
    cfg = load_config(TINY_CFG)
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    body, head = split_output_conv(model, (128, 96))
    assert head is model.conv_out or torch.equal(head.weight, model.conv_out.weight)
    assert isinstance(body.conv_out, nn.Identity) and isinstance(model.conv_out, nn.Conv2d)
    tail = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2)).eval()
    whole, none = split_output_conv(tail, (16, 12))
    assert whole is tail and none is None


def test_fp32_heatmaps_equal_pytorch_and_bf16_is_close(tiny_fastpose, coco_mini):
    _, model, _ = tiny_fastpose
    batch = normalize_crops(coco_crops(coco_mini, (128, 96))[0])
    want = torch_heatmaps(model, batch)
    fp32 = OpenVinoBackend(model, (128, 96), precision="fp32")
    got = fp32(batch)
    assert got.shape == want.shape == (len(batch), 17, 32, 24) and got.dtype == np.float32
    assert np.abs(got - want).max() <= 1e-4 * np.abs(want).max()
    bf16 = OpenVinoBackend(model, (128, 96), precision="bf16")
    assert bf16.precision == "bf16" and bf16.head is not None
    assert np.abs(bf16(batch) - want).max() < 0.02 * np.abs(want).max()
    assert fp32(batch[:0]).shape == (0, 17, 32, 24)
    with pytest.raises(PosekitError, match="takes"):
        fp32(batch[:, :, :64])


def test_estimator_keypoints_equal_torch_on_coco_people(tiny_fastpose, coco_mini):
    cfg, _, path = tiny_fastpose
    _, boxes = coco_crops(coco_mini, (128, 96))
    from posekit.io.images import read_image_rgb

    image = read_image_rgb(next((coco_mini / "val2017").glob("*.jpg")))
    torch_est = TopDownEstimator.from_checkpoint(cfg, str(path), backend="torch", precision="fp32")
    ov_est = TopDownEstimator.from_checkpoint(cfg, str(path), backend="openvino", precision="fp32")
    poses_t = torch_est.estimate(image, Detections.from_boxes(boxes))
    poses_o = ov_est.estimate(image, Detections.from_boxes(boxes))
    kp_t, sc_t, kp_o, sc_o = poses_t.keypoints, poses_t.scores, poses_o.keypoints, poses_o.scores
    assert np.abs(kp_o - kp_t).max() <= 0.01
    assert np.abs(sc_o - sc_t).max() < 1e-4


def test_auto_picks_onnx_for_onnx_files_openvino_on_cpu_else_torch(tiny_fastpose, monkeypatch):
    cfg, _, path = tiny_fastpose
    assert resolve_backend("auto", "model.onnx") == "onnx"
    assert resolve_backend("auto", path, "cpu") == "openvino"
    assert resolve_backend("auto", path, "cuda:0") == "torch"
    assert resolve_backend("torch", path, "cpu") == "torch"
    assert isinstance(build_backend("auto", cfg, path), OpenVinoBackend)
    import posekit.runtime.build as build_module
    import posekit.runtime.openvino_backend as ov_module

    monkeypatch.setattr(ov_module, "openvino_available", lambda: False)
    monkeypatch.setattr(build_module, "cpu_has_native_bf16", lambda: True)
    assert resolve_backend("auto", path, "cpu") == "torch"  # torch's bf16 beats ORT's fp32 there
    monkeypatch.setattr(build_module, "cpu_has_native_bf16", lambda: False)
    assert resolve_backend("auto", path, "cpu") == "onnx"
    with pytest.raises(PosekitError, match=r"posekit\[openvino\]"):
        OpenVinoBackend(nn.Conv2d(3, 17, 1), (8, 8))
    with pytest.raises(PosekitError, match="unknown backend"):
        resolve_backend("tensorrt", path)
    with pytest.raises(PosekitError, match="runs on the CPU"):
        build_backend("openvino", cfg, path, device="cuda")


def test_validate_and_infer_run_an_onnx_file_like_the_checkpoint(
    tiny_fastpose, coco_mini, tmp_path, monkeypatch
):
    """--backend onnx (and auto for a .onnx file) in both commands: the same keypoints as torch fp32."""
    import copy
    import json

    from posekit.cli.main import main
    from posekit.export.onnx import ExportOptions, export_onnx

    model = copy.deepcopy(tiny_fastpose[1])
    with torch.no_grad():  # sharpen the random heatmaps so that peaks pass pose NMS's 0.3 score floor
        model.conv_out.weight.mul_(2e4)
    path = tmp_path / "sharp.pth"
    torch.save(model.state_dict(), path)
    onnx_path = tmp_path / "tiny.onnx"
    export_onnx(model, onnx_path, (128, 96), ExportOptions(batch=1))
    text = TINY_CFG.read_text().replace("./data/coco/", f"{coco_mini}/")
    cfg_path = tmp_path / "tiny.yaml"
    cfg_path.write_text(text)
    monkeypatch.chdir(tmp_path)
    runs = {}
    for name, checkpoint, backend in [
        ("torch", path, "torch"),
        ("onnx", onnx_path, "onnx"),
        ("auto", onnx_path, "auto"),
    ]:
        argv = ["--cfg", str(cfg_path), "--checkpoint", str(checkpoint), "--backend", backend]
        assert main(["validate", *argv, "--precision", "fp32"]) == 0
        gt_box = json.loads((tmp_path / "exp/json/validate_gt_kpt.json").read_text())
        out = tmp_path / f"infer-{name}"
        images = ["--indir", str(coco_mini / "val2017"), "--outdir", str(out), "--no_save_img"]
        detfile = ["--detfile", str(coco_mini / "annotations/person_detections_val2017.json")]
        assert main(["infer", *argv, *images, *detfile, "--precision", "fp32"]) == 0
        runs[name] = (gt_box, json.loads((out / "alphapose-results.json").read_text()))
    for name in ("onnx", "auto"):
        for got, want in zip(runs[name], runs["torch"]):
            assert len(got) == len(want) > 0
            for a, b in zip(got, want):
                assert a["image_id"] == b["image_id"]
                assert np.abs(np.subtract(a["keypoints"], b["keypoints"])).max() <= 0.01
