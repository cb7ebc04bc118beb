"""YOLOX architectures: published sizes, official checkpoint layout, strict loading, decoding, ONNX."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from posekit.detectors.yolox import YOLOXDetector, load_yolox_checkpoint, seed_weights_path, size_of
from posekit.detectors.yolox_net import YOLOX, YOLOXHead
from posekit.errors import PosekitError


@pytest.fixture(autouse=True)
def one_torch_thread():
    """One intra-op thread: these are correctness tests, and on a shared 2-core machine two OpenMP threads
    spin against other processes and run many times slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# Parameter counts published in the YOLOX model zoo (millions, rounded as published).
PUBLISHED_PARAMS_M = {"nano": 0.91, "tiny": 5.06, "s": 9.0, "m": 25.3, "l": 54.2, "x": 99.1}


@pytest.mark.parametrize("size", ["nano", "tiny", "s", "m"])
def test_parameter_counts_match_published(size: str) -> None:
    params = sum(p.numel() for p in YOLOX(size).parameters()) / 1e6
    digits = len(str(PUBLISHED_PARAMS_M[size]).split(".")[1])
    assert round(params, digits) == PUBLISHED_PARAMS_M[size]


def test_official_key_names() -> None:
    keys = set(YOLOX("nano").state_dict())
    for key in [
        "backbone.backbone.stem.conv.conv.weight",
        "backbone.backbone.dark2.0.dconv.conv.weight",
        "backbone.backbone.dark2.0.pconv.bn.running_var",
        "backbone.backbone.dark5.1.conv2.conv.weight",
        "backbone.backbone.dark5.2.m.0.conv2.dconv.bn.num_batches_tracked",
        "backbone.lateral_conv0.conv.weight",
        "backbone.C3_p4.conv3.bn.bias",
        "backbone.bu_conv2.dconv.conv.weight",
        "backbone.C3_n4.m.0.conv1.conv.weight",
        "head.stems.2.conv.weight",
        "head.cls_convs.0.1.pconv.conv.weight",
        "head.reg_convs.2.0.dconv.bn.weight",
        "head.cls_preds.0.weight",
        "head.reg_preds.1.bias",
        "head.obj_preds.2.bias",
    ]:
        assert key in keys, key
    s_keys = set(YOLOX("s").state_dict())
    assert "backbone.backbone.dark2.0.conv.weight" in s_keys  # plain convs when not depthwise
    assert "head.cls_convs.0.1.conv.weight" in s_keys
    assert YOLOX("s").state_dict()["backbone.backbone.stem.conv.conv.weight"].shape == (32, 12, 3, 3)
    assert YOLOX("x").backbone.backbone.dark3[1].m.__len__() == 12  # round(3 * 1.33) * 3 bottlenecks


def test_names_and_seed_paths() -> None:
    assert size_of("yolox-nano") == "nano"
    assert size_of("yolox") == "x"
    assert seed_weights_path("yolox-tiny") == "detector/yolox/data/yolox_tiny.pth"
    with pytest.raises(PosekitError, match="unknown YOLOX size"):
        size_of("yolox-xl")


def _checkpoint(tmp_path: Path, size: str, seed: int = 0) -> tuple[Path, dict]:
    torch.manual_seed(seed)
    model = YOLOX(size)
    state = model.state_dict()
    path = tmp_path / f"yolox_{size}.pth"
    torch.save({"start_epoch": 300, "model": state}, path)  # the official layout: weights under "model"
    return path, state


def test_checkpoint_loads_strict_and_fully(tmp_path: Path) -> None:
    path, state = _checkpoint(tmp_path, "tiny", seed=1)
    torch.manual_seed(2)
    model = YOLOX("tiny")
    load_yolox_checkpoint(model, path, "yolox-tiny")
    loaded = model.state_dict()
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        assert torch.equal(loaded[key], value), key


def test_wrong_checkpoints_are_refused(tmp_path: Path) -> None:
    path, state = _checkpoint(tmp_path, "nano")
    short = {k: v for k, v in state.items() if not k.startswith("head.obj_preds.2.")}
    torch.save({"model": short}, tmp_path / "short.pth")
    with pytest.raises(PosekitError) as err:
        load_yolox_checkpoint(YOLOX("nano"), tmp_path / "short.pth", "yolox-nano")
    assert "short.pth: does not match yolox-nano (2 weights missing, first head.obj_preds.2.weight)" in str(
        err.value
    )
    assert "is this the yolox-nano checkpoint?" in str(err.value)
    with pytest.raises(PosekitError, match=r"yolox_nano.pth: does not match yolox-tiny \(.* has shape"):
        load_yolox_checkpoint(YOLOX("tiny"), path, "yolox-tiny")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(PosekitError, match=r"junk\.pth: not a readable torch checkpoint"):
        load_yolox_checkpoint(YOLOX("nano"), tmp_path / "junk.pth", "yolox-nano")


def test_head_decoding_exact() -> None:
    out = torch.zeros(1, 85, 2, 3)  # stride-16 level, 2 rows x 3 columns
    out[0, 0, 1, 2] = 0.25
    out[0, 3, 1, 2] = float(np.log(2.0))
    out[0, 4, 1, 2] = 0.9
    pred = YOLOXHead._decode(out, 16)
    assert pred.shape == (1, 6, 85)
    assert pred[0, 5, :5].tolist() == pytest.approx([(2 + 0.25) * 16, 1 * 16, 16, 32, 0.9])
    assert pred[0, 1, :4].tolist() == pytest.approx([16, 0, 16, 16])


def test_preprocess_bgr_topleft_114(tmp_path: Path) -> None:
    path, _ = _checkpoint(tmp_path, "nano")
    det = YOLOXDetector("yolox-nano", weights=str(path), inp_dim=64)
    image = np.zeros((16, 32, 3), np.uint8)
    image[..., 0] = 200  # red
    x, placement = det.preprocess(image)
    assert x.shape == (3, 64, 64) and x.dtype == np.float32
    assert (placement.offset_x, placement.offset_y, placement.scale_x) == (0, 0, 2.0)
    assert np.all(x[2, :32, :] == 200) and np.all(x[0, :32, :] == 0)  # BGR: red is the last channel
    assert np.all(x[:, 32:, :] == 114)  # padding below, no normalisation


def test_onnx_export_matches_torch(tmp_path: Path) -> None:
    """Exported through the export issue's `export_onnx`, run with onnxruntime at two batch sizes."""
    ort = pytest.importorskip("onnxruntime")
    from posekit.export.onnx import ExportOptions, export_onnx

    torch.manual_seed(0)
    model = YOLOX("nano").eval()
    report = export_onnx(model, tmp_path / "yolox_nano.onnx", (128, 160), ExportOptions(dynamic_batch=True))
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-2
    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    x = torch.rand(2, 3, 128, 160) * 255
    with torch.no_grad():
        expected = model(x).numpy()
    got = session.run(None, {session.get_inputs()[0].name: x.numpy()})[0]
    assert got.shape == expected.shape == (2, (16 * 20 + 8 * 10 + 4 * 5), 85)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
