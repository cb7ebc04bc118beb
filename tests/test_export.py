"""ONNX export: file layout, agreement with PyTorch on real crops, uint8 pre-processing, the ONNX backend."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
import torch
from torch import nn

from posekit.errors import PosekitError
from posekit.export.onnx import ExportOptions, export_onnx
from posekit.geometry import crop_people, heatmap_to_image_coords, normalize_crops
from posekit.io.images import read_image_rgb
from posekit.runtime.onnx_backend import OnnxBackend, choose_providers

INPUT_HW = (64, 48)


class TinyPose(nn.Module):
    """A FastPose-shaped toy: strided conv/BN/ReLU, PixelShuffle up, 17 heatmaps at 1/4 size."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
            nn.Conv2d(16, 64, 3, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 128, 3, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(),
        )  # fmt: skip
        self.shuffle = nn.PixelShuffle(2)
        self.conv_out = nn.Conv2d(32, 17, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_out(self.shuffle(self.stem(x)))


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    model = TinyPose().eval()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return model


def coco_crops(root, input_hw=INPUT_HW) -> tuple[np.ndarray, np.ndarray]:
    """uint8 crops and crop boxes of every annotated person of coco-val-mini."""
    data = json.loads((root / "annotations" / "person_keypoints_val2017.json").read_text())
    files = {img["id"]: img["file_name"] for img in data["images"]}
    crops, boxes = [], []
    for image_id, name in files.items():
        people = [a for a in data["annotations"] if a["image_id"] == image_id and a["num_keypoints"] > 0]
        if not people:
            continue
        xyxy = np.array(
            [
                [a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]]
                for a in people
            ]
        )
        c, b = crop_people(read_image_rgb(root / "val2017" / name), xyxy, input_hw)
        crops.append(c)
        boxes.append(b)
    return np.concatenate(crops), np.concatenate(boxes)


def torch_heatmaps(model: nn.Module, batch: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(batch)).numpy()


def argmax_keypoints(heatmaps: np.ndarray, crop_boxes: np.ndarray) -> np.ndarray:
    """Argmax + AlphaPose's quarter offset, mapped back to image pixels."""
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1).argmax(-1)
    xs, ys = (flat % w).astype(np.float64), (flat // w).astype(np.float64)
    coords = np.stack([xs, ys], -1)
    for i in range(n):
        for j in range(k):
            px, py = int(xs[i, j]), int(ys[i, j])
            hm = heatmaps[i, j]
            if 1 < px < w - 1 and 1 < py < h - 1:
                coords[i, j] += 0.25 * np.sign(
                    [hm[py, px + 1] - hm[py, px - 1], hm[py + 1, px] - hm[py - 1, px]]
                )
    return heatmap_to_image_coords(coords, crop_boxes, (h, w))


def test_default_export_is_what_atc_expects(tmp_path, coco_mini):
    model = tiny_model()
    report = export_onnx(model, tmp_path / "m.onnx", INPUT_HW)
    loaded = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(loaded, full_check=True)
    (inp,) = loaded.graph.input
    (out,) = loaded.graph.output
    assert inp.name == "input" and out.name == "output"
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    assert [d.dim_value for d in inp.type.tensor_type.shape.dim] == [1, 3, 64, 48]
    assert [d.dim_value for d in out.type.tensor_type.shape.dim] == [1, 17, 16, 12]
    assert loaded.opset_import[0].version == 11
    assert "DepthToSpace" in {node.op_type for node in loaded.graph.node}
    assert report.input_shape == [1, 3, 64, 48] and report.input_dtype == "float32"
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]  # no temp file left behind


def test_onnx_runtime_heatmaps_and_keypoints_equal_torch(tmp_path, coco_mini):
    model = tiny_model()
    export_onnx(model, tmp_path / "d.onnx", INPUT_HW, ExportOptions(dynamic_batch=True))
    crops, boxes = coco_crops(coco_mini)
    batch = normalize_crops(crops)
    backend = OnnxBackend(tmp_path / "d.onnx")
    assert backend.providers == ["CPUExecutionProvider"] and backend.fixed_batch is None
    got, want = backend(batch), torch_heatmaps(model, batch)
    assert got.shape == want.shape == (len(crops), 17, 16, 12)
    assert np.abs(got - want).max() < 1e-4
    kp_diff = np.abs(argmax_keypoints(got, boxes) - argmax_keypoints(want, boxes)).max()
    assert kp_diff <= 0.01


def test_fixed_batch_file_runs_any_number_of_crops(tmp_path, coco_mini):
    model = tiny_model()
    export_onnx(model, tmp_path / "b4.onnx", INPUT_HW, ExportOptions(batch=4))
    crops, _ = coco_crops(coco_mini)
    batch = normalize_crops(crops[:7])
    backend = OnnxBackend(tmp_path / "b4.onnx")
    assert backend.fixed_batch == 4
    got = backend(batch)
    assert got.shape == (7, 17, 16, 12)
    assert np.abs(got - torch_heatmaps(model, batch)).max() < 1e-4
    assert backend(batch[:0]).shape == (0, 17, 16, 12)


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
def test_preprocess_model_equals_plain_model_on_uint8(tmp_path, coco_mini, layout):
    import onnxruntime as ort

    model = tiny_model()
    export_onnx(model, tmp_path / "plain.onnx", INPUT_HW, ExportOptions(dynamic_batch=True))
    report = export_onnx(
        model, tmp_path / "u8.onnx", INPUT_HW, ExportOptions(dynamic_batch=True, preprocess=layout)
    )
    assert report.input_dtype == "uint8"
    crops, _ = coco_crops(coco_mini)
    u8 = crops if layout == "nhwc" else np.ascontiguousarray(crops.transpose(0, 3, 1, 2))
    session = ort.InferenceSession(str(tmp_path / "u8.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].type == "tensor(uint8)"
    got = session.run(["output"], {"input": u8})[0]
    want = OnnxBackend(tmp_path / "plain.onnx")(normalize_crops(crops))
    assert np.abs(got - want).max() < 1e-5
    with pytest.raises(PosekitError, match="float32"):
        OnnxBackend(tmp_path / "u8.onnx")


def test_bad_options_fail_before_writing(tmp_path):
    for options, message in [
        (ExportOptions(opset=9), "opset"),
        (ExportOptions(batch=0), "batch"),
        (ExportOptions(preprocess="bgr"), "preprocess"),
    ]:
        with pytest.raises(PosekitError, match=message):
            export_onnx(tiny_model(), tmp_path / "x.onnx", INPUT_HW, options)
    assert list(tmp_path.iterdir()) == []


def test_simplify_without_onnxsim_names_the_package(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnxsim" else real(name, *a)
    )
    with pytest.raises(PosekitError, match="pip install onnxsim"):
        export_onnx(tiny_model(), tmp_path / "s.onnx", INPUT_HW, ExportOptions(simplify=True))
    assert not (tmp_path / "s.onnx").exists()


def test_provider_choice_prefers_accelerators():
    assert choose_providers(["CPUExecutionProvider", "CUDAExecutionProvider"]) == [
        "CUDAExecutionProvider",
        "CPUExecutionProvider",
    ]
    assert choose_providers(["CANNExecutionProvider", "CPUExecutionProvider"]) == [
        "CANNExecutionProvider",
        "CPUExecutionProvider",
    ]
    assert choose_providers(["AzureExecutionProvider", "CPUExecutionProvider"]) == ["CPUExecutionProvider"]
    with pytest.raises(PosekitError, match="CANNExecutionProvider"):
        choose_providers(["CPUExecutionProvider"], ["CANNExecutionProvider"])


def test_onnx_backend_missing_file(tmp_path):
    with pytest.raises(PosekitError, match="not found"):
        OnnxBackend(tmp_path / "nope.onnx")


def test_export_check_uses_a_real_person_without_the_dev_data():
    """The export check crops the astronaut of scikit-image's photo (the package never looks for dev data)."""
    from posekit.export import sample
    from posekit.io.images import sample_image_path

    crops, boxes = sample.sample_crops_and_boxes((64, 48), 2)
    assert crops.shape == (2, 64, 48, 3) and crops.dtype == np.uint8
    want = crop_people(read_image_rgb(sample_image_path()), np.array([sample.ASTRONAUT_BOX]), (64, 48))[0][0]
    np.testing.assert_array_equal(crops[0], want)
    np.testing.assert_array_equal(crops[1], want[:, ::-1])  # the second is the mirrored copy
    assert np.array_equal(boxes[0], boxes[1]) and sample.describe_source() == "scikit-image's astronaut photo"
