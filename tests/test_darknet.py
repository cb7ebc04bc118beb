"""Darknet cfg parser, model builder and .weights reader."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from posekit.detectors.darknet import (
    DarknetModel,
    YoloLayer,
    darknet_float_count,
    load_darknet_weights,
    parse_cfg,
    parse_cfg_text,
)
from posekit.detectors.yolov3 import build_darknet, find_cfg
from posekit.errors import PosekitError


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: these are correctness tests, and on a shared 2-core machine two OpenMP threads
    spin against other processes and run many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# Every layer kind the parser supports, small enough to run in milliseconds.
TINY_CFG = """
[net]
width=64
height=64
channels=3

[convolutional]      # 0
batch_normalize=1
filters=8
size=3
stride=2
pad=1
activation=leaky

[convolutional]      # 1
batch_normalize=1
filters=8
size=1
stride=1
pad=1
activation=leaky

[shortcut]           # 2
from=-2
activation=linear

[maxpool]            # 3  SPP-style stride-1 pools
stride=1
size=5

[route]              # 4
layers=-2

[maxpool]            # 5
stride=1
size=9

[route]              # 6  three layers, relative and absolute
layers=-1,3,2

[convolutional]      # 7
batch_normalize=1
filters=16
size=3
stride=2
pad=1
activation=leaky

[maxpool]            # 8  darknet even-size pool keeps the size
stride=1
size=2

[convolutional]      # 9  no batch norm: conv bias
size=1
stride=1
pad=1
filters=18
activation=linear

[yolo]               # 10
mask=1,2,3
anchors=4,5, 10,12, 20,24, 40,30
classes=1

[route]              # 11
layers=-4

[upsample]           # 12
stride=2

[route]              # 13
layers=-1,6

[convolutional]      # 14
size=1
stride=1
pad=1
filters=18
activation=linear

[yolo]               # 15
mask=0,1,2
anchors=4,5, 10,12, 20,24, 40,30
classes=1
"""

# The published yolov3.weights is 248,007,048 bytes: a 20-byte header and 62,001,757 floats. YOLOv3-SPP
# adds one 1x1 convolution (2048 -> 512 channels, batch norm): 512*2048 + 4*512 floats.
YOLOV3_FLOATS = 62_001_757
YOLOV3_SPP_FLOATS = YOLOV3_FLOATS + 512 * 2048 + 4 * 512


def darknet_values(model: DarknetModel, rng: np.random.Generator) -> list[np.ndarray]:
    """Per conv layer, in file order, the arrays a darknet .weights file stores (random, valid BN)."""
    arrays = []
    for layer in model.conv_layers():
        out = layer.conv.out_channels
        if hasattr(layer, "bn"):
            arrays += [
                rng.normal(0, 0.1, out),  # bias
                rng.uniform(0.5, 1.5, out),  # scale
                rng.normal(0, 0.1, out),  # running mean
                rng.uniform(0.5, 1.5, out),  # running variance
            ]
        else:
            arrays.append(rng.normal(0, 0.1, out))
        fan_in = layer.conv.weight[0].numel()
        arrays.append(rng.normal(0, 1 / np.sqrt(fan_in), layer.conv.weight.numel()))
    return [a.astype("<f4") for a in arrays]


def write_weights(path: Path, arrays: list[np.ndarray], version: tuple[int, int, int] = (0, 2, 0)) -> None:
    """A darknet .weights file: int32 major, minor, revision; seen (int64 from version 0.2); float32 data."""
    with open(path, "wb") as f:
        f.write(struct.pack("<3i", *version))
        seen = 32013312
        f.write(struct.pack("<q", seen) if version[0] * 10 + version[1] >= 2 else struct.pack("<i", seen))
        for array in arrays:
            f.write(array.tobytes())


@pytest.fixture()
def tiny_model(tmp_path: Path) -> DarknetModel:
    cfg = tmp_path / "tiny.cfg"
    cfg.write_text(TINY_CFG)
    return DarknetModel(parse_cfg(cfg), source=str(cfg)).eval()


def test_packaged_cfg_is_yolov3_spp() -> None:
    model = build_darknet()
    assert find_cfg().name == "yolov3-spp.cfg"
    assert len(model.module_list) == 114
    assert model.input_hw == (608, 608)
    yolos = [m for m in model.module_list if isinstance(m, YoloLayer)]
    assert [m.anchors.tolist() for m in yolos] == [
        [[116, 90], [156, 198], [373, 326]],
        [[30, 61], [62, 45], [59, 119]],
        [[10, 13], [16, 30], [33, 23]],
    ]
    assert all(m.num_classes == 80 for m in yolos)
    spp = [(i, m.size) for i, m in enumerate(model.module_list) if model.layer_types[i] == "maxpool"]
    assert spp == [(78, 5), (80, 9), (82, 13)]
    assert model.layer_args[83] == [82, 80, 78, 77]
    assert darknet_float_count(model) == YOLOV3_SPP_FLOATS


def test_seed_cfg_location_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = tmp_path / "detector/yolo/cfg/yolov3-spp.cfg"
    seed.parent.mkdir(parents=True)
    seed.write_text(TINY_CFG)
    monkeypatch.chdir(tmp_path)
    assert find_cfg() == seed
    assert len(build_darknet().module_list) == 16
    assert find_cfg(str(seed)) == seed
    seed.unlink()  # DETECTOR.CONFIG's default path, absent: the packaged cfg
    assert find_cfg("detector/yolo/cfg/yolov3-spp.cfg").parent.name == "data"
    with pytest.raises(PosekitError, match=r"darknet cfg not found: other\.cfg"):
        find_cfg("other.cfg")


def test_tiny_cfg_shapes(tiny_model: DarknetModel) -> None:
    out = tiny_model(torch.rand(2, 3, 64, 64))
    # yolo 10 sees 16x16 (3 anchors), yolo 15 sees 32x32 (3 anchors); 6 values each (1 class)
    assert out.shape == (2, 3 * 16 * 16 + 3 * 32 * 32, 6)
    assert tiny_model.layer_args[6] == [5, 3, 2]
    assert tiny_model.layer_args[13] == [12, 6]


def test_weights_are_read_in_darknet_order(tiny_model: DarknetModel, tmp_path: Path) -> None:
    arrays = darknet_values(tiny_model, np.random.default_rng(0))
    path = tmp_path / "tiny.weights"
    write_weights(path, arrays)
    load_darknet_weights(tiny_model, path)
    first = tiny_model.conv_layers()[0]
    np.testing.assert_array_equal(first.bn.bias.detach().numpy(), arrays[0])
    np.testing.assert_array_equal(first.bn.weight.detach().numpy(), arrays[1])
    np.testing.assert_array_equal(first.bn.running_mean.detach().numpy(), arrays[2])
    np.testing.assert_array_equal(first.bn.running_var.detach().numpy(), arrays[3])
    np.testing.assert_array_equal(first.conv.weight.detach().numpy().ravel(), arrays[4])
    no_bn = tiny_model.conv_layers()[3]
    np.testing.assert_array_equal(no_bn.conv.bias.detach().numpy(), arrays[-4])
    np.testing.assert_array_equal(no_bn.conv.weight.detach().numpy().ravel(), arrays[-3])
    last = tiny_model.conv_layers()[-1]
    np.testing.assert_array_equal(last.conv.weight.detach().numpy().ravel(), arrays[-1])


def test_old_header_with_32bit_seen(tiny_model: DarknetModel, tmp_path: Path) -> None:
    arrays = darknet_values(tiny_model, np.random.default_rng(1))
    path = tmp_path / "old.weights"
    write_weights(path, arrays, version=(0, 1, 0))
    load_darknet_weights(tiny_model, path)
    np.testing.assert_array_equal(
        tiny_model.conv_layers()[-1].conv.weight.detach().numpy().ravel(), arrays[-1]
    )


def test_wrong_variant_is_refused(tiny_model: DarknetModel, tmp_path: Path) -> None:
    arrays = darknet_values(tiny_model, np.random.default_rng(2))
    expected = sum(a.size for a in arrays)
    short = tmp_path / "short.weights"
    write_weights(short, arrays[:-2])  # the last conv layer (bias + weights) missing
    with pytest.raises(PosekitError) as err:
        load_darknet_weights(tiny_model, short)
    have = expected - arrays[-1].size - arrays[-2].size
    assert f"expected {expected} floats for tiny.cfg, file has {have}: is this the tiny variant?" in str(
        err.value
    )
    assert str(short) in str(err.value)
    long = tmp_path / "long.weights"
    write_weights(long, [*arrays, np.zeros(7, "<f4")])
    with pytest.raises(
        PosekitError, match=f"expected {expected} floats for tiny.cfg, file has {expected + 7}"
    ):
        load_darknet_weights(tiny_model, long)
    with pytest.raises(PosekitError, match=r"too short for a darknet \.weights file"):
        (tmp_path / "empty.weights").write_bytes(b"\0" * 8)
        load_darknet_weights(tiny_model, tmp_path / "empty.weights")


def test_full_yolov3_spp_weights_consumed_exactly(tmp_path: Path) -> None:
    model = build_darknet()
    arrays = darknet_values(model, np.random.default_rng(3))
    assert sum(a.size for a in arrays) == YOLOV3_SPP_FLOATS
    path = tmp_path / "yolov3-spp.weights"
    write_weights(path, arrays)
    assert path.stat().st_size == 20 + 4 * YOLOV3_SPP_FLOATS
    load_darknet_weights(model, path)
    last = model.conv_layers()[-1]
    assert last.conv.weight.shape == (255, 256, 1, 1)
    np.testing.assert_array_equal(last.conv.weight.detach().numpy().ravel(), arrays[-1])
    with open(path, "r+b") as f:  # drop the last layer: 255 biases + 255*256 weights
        f.truncate(path.stat().st_size - 4 * (255 + 255 * 256))
    with pytest.raises(PosekitError) as err:
        load_darknet_weights(model, path)
    assert (
        f"expected {YOLOV3_SPP_FLOATS} floats for yolov3-spp.cfg, file has {YOLOV3_SPP_FLOATS - 255 * 257}: "
        "is this the yolov3-spp variant?"
    ) in str(err.value)


def test_yolo_decoding_exact() -> None:
    cfg = "[net]\nchannels=12\n[maxpool]\nsize=8\nstride=8\n[yolo]\nmask=1,2\nanchors=1,2,3,4,5,6\nclasses=1"
    model = DarknetModel(parse_cfg_text(cfg))
    # Pooled to a grid of 4 rows x 8 columns (stride 8); darknet pools pad 3 before, so cell (r, c)
    # covers rows 8r-3 .. 8r+4 and columns 8c-3 .. 8c+4.
    x = torch.zeros(1, 12, 32, 64)
    x[0, 6 + 0, 2 * 8 + 4, 5 * 8 - 3] = 2.0  # anchor 1 (3rd anchor pair 5,6): tx in cell row 2, col 5
    x[0, 6 + 2, 2 * 8, 5 * 8] = np.log(3.0)  # tw
    out = model(x).view(4, 8, 2, 6)
    sig2 = 1 / (1 + np.exp(-2.0))
    assert out[2, 5, 1].tolist() == pytest.approx([(5 + sig2) * 8, (2 + 0.5) * 8, 15.0, 6.0, 0.5, 0.5])
    assert out[0, 0, 0].tolist() == pytest.approx([4.0, 4.0, 3.0, 4.0, 0.5, 0.5])


def test_cfg_errors_name_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.cfg"
    bad.write_text("[net]\nwidth=64\n\n[dropout]\nprobability=.5\n")
    with pytest.raises(PosekitError, match=r"bad.cfg:4: \[dropout\] \(layer 0\): unsupported layer type"):
        DarknetModel(parse_cfg(bad), source=str(bad))
    with pytest.raises(PosekitError, match=r"no \[sections\] found"):
        parse_cfg_text("\n# nothing\n")
    route = "[net]\n[convolutional]\nfilters=3\nsize=1\n[route]\nlayers=-3\n"
    with pytest.raises(PosekitError, match="not an earlier layer"):
        DarknetModel(parse_cfg_text(route))
    with pytest.raises(PosekitError, match="expected 3\\*\\(5\\+80\\)"):
        DarknetModel(parse_cfg_text("[net]\nchannels=3\n[yolo]\nmask=0,1,2\nanchors=1,1,2,2,3,3"))


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
def test_onnx_export_matches_torch(tiny_model: DarknetModel, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    write_weights(tmp_path / "tiny.weights", darknet_values(tiny_model, np.random.default_rng(4)))
    load_darknet_weights(tiny_model, tmp_path / "tiny.weights")
    x = torch.rand(2, 3, 64, 96)
    path = tmp_path / "tiny.onnx"
    torch.onnx.export(
        tiny_model, (x,), str(path), input_names=["images"], output_names=["preds"], dynamo=False,
        dynamic_axes={"images": {0: "batch"}, "preds": {0: "batch"}}, opset_version=17,
    )  # fmt: skip
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        expected = tiny_model(x).numpy()
    got = session.run(None, {"images": x.numpy()})[0]
    assert got.shape == expected.shape == (2, 3 * 16 * 24 + 3 * 32 * 48, 6)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(
        session.run(None, {"images": x[1:].numpy()})[0], expected[1:], rtol=1e-4, atol=1e-3
    )
