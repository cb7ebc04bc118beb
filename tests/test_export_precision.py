"""CPU fast path of the torch backend: BN folding, channels_last, bf16 only where the CPU has it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from posekit.errors import PosekitError
from posekit.runtime import precision
from posekit.runtime.precision import fold_batchnorm, optimize_for_inference, resolve_precision
from tests.test_export import coco_crops, normalize_crops, tiny_model


def run(model, batch: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model(torch.from_numpy(batch)).numpy()


def test_fold_batchnorm_removes_bn_and_keeps_outputs(coco_mini):
    model = tiny_model()
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # caller's model untouched
    batch = normalize_crops(coco_crops(coco_mini)[0])
    assert np.abs(run(folded, batch) - run(model, batch)).max() < 1e-5


def test_fp32_path_equals_model_and_bf16_is_close(coco_mini):
    model = tiny_model()
    batch = normalize_crops(coco_crops(coco_mini)[0])
    want = run(model, batch)
    fp32 = optimize_for_inference(model, precision="fp32")
    assert fp32.precision == "fp32" and fp32.channels_last
    got = run(fp32, batch)
    assert got.dtype == np.float32 and got.flags["C_CONTIGUOUS"]
    assert np.abs(got - want).max() < 1e-5
    bf16 = optimize_for_inference(model, precision="bf16")
    assert next(bf16.net.parameters()).dtype == torch.bfloat16
    assert isinstance(bf16.net.conv_out, precision.Float32Conv)  # heatmaps not rounded to bf16
    assert bf16.net.conv_out.conv.weight.dtype == torch.float32
    got16 = run(bf16, batch)
    assert got16.dtype == np.float32
    assert np.abs(got16 - want).max() < 0.02 * np.abs(want).max()


def test_auto_precision_falls_back_to_fp32_without_native_bf16(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert resolve_precision("auto", "cpu") == "fp32"
    assert optimize_for_inference(tiny_model()).precision == "fp32"
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert resolve_precision("auto", "cpu") == "bf16"
    assert resolve_precision("auto", "cuda") == "fp32"
    assert resolve_precision("fp32", "cpu") == "fp32"
    with pytest.raises(PosekitError, match="precision"):
        resolve_precision("fp16", "cpu")


def test_native_bf16_probe_matches_cpu_flags():
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        pytest.skip("no /proc/cpuinfo to compare with")
    flags = cpuinfo.read_text() if torch.backends.mkldnn.is_available() else ""
    expected = "avx512_bf16" in flags or "amx_bf16" in flags
    assert precision.cpu_has_native_bf16() == expected
