"""Detector networks exported to ONNX (`posekit export detector`) and run by onnxruntime as detectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posekit.cli.main import main
from posekit.detectors import build_detector
from posekit.detectors.darknet import DarknetModel, parse_cfg
from posekit.detectors.onnx_net import OnnxDetectorNet
from posekit.errors import PosekitError
from posekit.io.images import list_images, read_image_rgb
from tests.test_darknet import TINY_CFG, darknet_values, write_weights
from tests.test_detectors import _same, _yolox_checkpoint

pytest.importorskip("onnxruntime")
TORCH_FP32 = {"backend": "torch", "precision": "fp32"}  # the reference: the PyTorch network in fp32


@pytest.fixture(scope="module")
def coco_images(coco_mini: Path) -> list[np.ndarray]:
    return [read_image_rgb(p) for p in list_images(coco_mini / "val2017")]


def _same_detections(got, want) -> None:
    """The same people per image (matched one to one: equal scores may come in another order)."""
    assert sum(len(d) for d in want) > 0
    _same(got, want)


def test_yolox_exports_and_runs_on_onnxruntime(tmp_path, coco_images, capsys):
    weights = _yolox_checkpoint("nano", tmp_path / "yolox_nano.pth", coco_images, 256)
    out = tmp_path / "yolox_nano.onnx"
    argv = ["export", "detector", "--detector", "yolox-nano", "--detector_weights", str(weights)]
    assert main([*argv, "--output", str(out), "--inp_dim", "256", "--dynamic-batch"]) == 0
    printed = capsys.readouterr().out
    diff = float(printed.split("max abs difference from PyTorch: ")[1].split()[0])
    assert diff < 1e-2 and f"--detector_weights {out}" in printed
    exported = build_detector("yolox-nano", weights=str(out))
    assert isinstance(exported.model, OnnxDetectorNet) and exported.input_size == 256  # from the file
    torch_detector = build_detector("yolox-nano", weights=str(weights), inp_dim=256, **TORCH_FP32)
    _same_detections(exported.detect(coco_images), torch_detector.detect(coco_images))
    one_by_one = [exported.detect([image])[0] for image in coco_images]
    _same_detections(one_by_one, torch_detector.detect(coco_images))
    with pytest.raises(PosekitError, match="already an ONNX network"):
        from posekit.export.detector import export_detector_onnx

        export_detector_onnx(exported, tmp_path / "again.onnx")


def test_yolov3_fixed_batch_file_runs_any_number_of_images(tmp_path, coco_images, capsys):
    cfg = tmp_path / "tiny.cfg"
    cfg.write_text(TINY_CFG)
    net = DarknetModel(parse_cfg(cfg), source=str(cfg)).eval()
    write_weights(tmp_path / "tiny.weights", darknet_values(net, np.random.default_rng(4)))
    torch_detector = build_detector(
        "yolo", weights=str(tmp_path / "tiny.weights"), cfg=str(cfg), inp_dim=64, conf_thres=0.5, **TORCH_FP32
    )
    out = tmp_path / "tiny_yolo.onnx"
    argv = ["export", "detector", "--detector", "yolo", "--detector_weights", str(tmp_path / "tiny.weights")]
    assert main([*argv, "--output", str(out)]) == 1  # the CLI builds yolov3-spp.cfg: these weights do not fit
    assert "is this the yolov3-spp variant?" in capsys.readouterr().err and not out.exists()
    from posekit.export.detector import export_detector_onnx
    from posekit.export.onnx import ExportOptions

    report = export_detector_onnx(torch_detector, out, ExportOptions(batch=2))
    assert report.input_shape == [2, 3, 64, 64] and report.max_abs_diff < 1e-3
    exported = build_detector("yolo", weights=str(out), conf_thres=0.5)
    assert exported.model.runner.fixed_batch == 2
    _same_detections(exported.detect(coco_images[:3]), torch_detector.detect(coco_images[:3]))


def test_blazepose_is_not_exported(tmp_path, capsys):
    argv = ["export", "detector", "--detector", "blazepose", "--output", str(tmp_path / "b.onnx")]
    assert main(argv) == 1
    assert "only the yolo and yolox detectors export to ONNX" in capsys.readouterr().err
    assert not (tmp_path / "b.onnx").exists()
