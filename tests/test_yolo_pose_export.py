"""`posekit export detector --detector yolo11n-pose`: ONNX equal to torch on a real image, Ascend plan."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posekit.cli.main import main
from posekit.families.yolo_pose.detector import YoloPoseDetector
from posekit.families.yolo_pose.postprocess import postprocess
from posekit.families.yolo_pose.preprocess import preprocess, to_input
from posekit.io.images import read_image_rgb
from tests.test_export_ascend import parse_aipp


def test_yolo11n_pose_onnx_matches_torch_and_the_plan_feeds_it_rgb_over_255(
    tmp_path, coco_mini, yolo11n_pose, capsys
):
    ort = pytest.importorskip("onnxruntime")
    image_path = coco_mini / "val2017" / "000000196141.jpg"
    output = tmp_path / "yolo11n-pose.onnx"
    argv = ["export", "detector", "--detector", "yolo11n-pose", "--output", str(output)]
    assert main([*argv, "--check_image", str(image_path)]) == 0
    printed = capsys.readouterr().out
    assert "input 'float32[1, 3, 640, 640]'" in printed and "max abs difference from PyTorch" in printed
    detector = YoloPoseDetector(weights=str(yolo11n_pose))
    batch, boxes = preprocess([read_image_rgb(image_path)], 640, 32, auto=False)
    assert batch.shape == (1, 3, 640, 640)
    session = ort.InferenceSession(str(output), providers=["CPUExecutionProvider"])
    from_onnx = session.run(["output"], {"input": batch})[0]
    with torch.no_grad():
        from_torch = detector.network(torch.from_numpy(batch)).numpy()
    assert from_onnx.shape == from_torch.shape == (1, 56, 8400)
    np.testing.assert_allclose(from_onnx, from_torch, atol=5e-3, rtol=1e-4)
    onnx_people = postprocess(from_onnx, boxes, (17, 3))[0]
    torch_people = postprocess(from_torch, boxes, (17, 3))[0]
    assert len(onnx_people.boxes) == len(torch_people.boxes) == 4
    np.testing.assert_allclose(onnx_people.boxes, torch_people.boxes, atol=0.01)
    np.testing.assert_allclose(onnx_people.keypoints, torch_people.keypoints, atol=0.01)
    np.testing.assert_allclose(onnx_people.keypoint_scores, torch_people.keypoint_scores, atol=1e-4)
    # Ascend: AIPP takes the letterboxed uint8 RGB image and computes rgb / 255, the network's input.
    aipp = parse_aipp((tmp_path / "yolo11n-pose_aipp_rgb_aipp.cfg").read_text())
    assert (aipp["input_format"], aipp["src_image_size_w"], aipp["src_image_size_h"]) == (
        "RGB888_U8",
        "640",
        "640",
    )
    pixels = np.arange(256, dtype=np.uint8)[None, :, None].repeat(3, axis=2)  # (1, 256, 3)
    mean = np.array([int(aipp[f"mean_chn_{i}"]) for i in range(3)], dtype=np.float64)
    low = np.array([float(aipp[f"min_chn_{i}"]) for i in range(3)], dtype=np.float16).astype(np.float64)
    var = np.array([float(aipp[f"var_reci_chn_{i}"]) for i in range(3)], dtype=np.float16).astype(np.float64)
    on_device = (pixels.astype(np.float64) - mean - low) * var
    np.testing.assert_allclose(
        on_device.transpose(2, 0, 1)[None], to_input([pixels]), atol=3e-4
    )  # fp16 1/255
    script = (tmp_path / "yolo11n-pose_aipp_rgb_atc.sh").read_text()
    assert f"--model={output}" in script and "--input_shape=input:1,3,640,640" in script
    assert f"--insert_op_conf={tmp_path / 'yolo11n-pose_aipp_rgb_aipp.cfg'}" in script
