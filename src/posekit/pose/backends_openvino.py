"""OpenVINO heatmap backend: the fastest CPU path for FastPose checkpoints (bf16 on AMX/AVX512-BF16 CPUs).

The torch network is exported to ONNX in a temporary folder (no file left behind) and compiled by
OpenVINO's CPU plugin. Everything but the output conv runs in OpenVINO (bf16 where the CPU has it
natively, else fp32); the output conv (0.5% of the FLOPs) runs in fp32 PyTorch on the features, so
heatmaps are never rounded to bf16, whose 8-bit mantissa ties neighbouring pixels before the argmax.
Measured on this project's 2-core AMX CPU, FastPose-ResNet-50 256x192 (benchmarks/backends.py):
about 7.5 ms per person at batch 8, against 12.5-15 for the torch bf16 path.
"""

from __future__ import annotations

import copy
import importlib.util
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from posekit.errors import PosekitError
from posekit.onnx_trace import trace_to_onnx
from posekit.pose.precision import last_conv_name, replace_submodule, resolve_precision

INSTALL_HINT = "pip install 'posekit[openvino]'"


def openvino_available() -> bool:
    """True when the openvino package is installed."""
    return importlib.util.find_spec("openvino") is not None


def split_output_conv(model: nn.Module, input_hw: tuple[int, int]) -> tuple[nn.Module, nn.Conv2d | None]:
    """(body, head): the model without its last Conv2d, and that conv, when head(body(x)) == model(x).

    A model whose last conv is not its final operation comes back whole, with head None.
    """
    model = model.eval()
    name = last_conv_name(model)
    if name is None:
        return model, None
    body = copy.deepcopy(model)
    head = replace_submodule(body, name, nn.Identity())
    probe = torch.randn(1, 3, *input_hw, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        same = torch.allclose(head(body(probe)), model(probe), rtol=1e-4, atol=1e-5)
    return (body, head) if same else (model, None)


class OpenVinoBackend:
    """HeatmapBackend running a torch pose network through OpenVINO on the CPU (float32 NCHW in and out)."""

    def __init__(
        self,
        model: nn.Module,
        input_hw: tuple[int, int],
        precision: str = "auto",
        threads: int | None = None,
    ) -> None:
        if not openvino_available():
            raise PosekitError(f"the openvino backend needs OpenVINO: {INSTALL_HINT}")
        import openvino as ov

        self.input_hw = (int(input_hw[0]), int(input_hw[1]))
        self.precision = resolve_precision(precision, "cpu")
        body, self.head = split_output_conv(model.cpu().float(), self.input_hw)
        if self.head is not None:
            self.head = self.head.float().eval()
        core = ov.Core()
        config = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_PRECISION_HINT": "bf16" if self.precision == "bf16" else "f32",
            "INFERENCE_NUM_THREADS": int(threads or torch.get_num_threads()),
        }
        with tempfile.TemporaryDirectory(prefix="posekit-ov-") as tmp:
            path = Path(tmp) / "body.onnx"
            sample = np.zeros((1, 3, *self.input_hw), dtype=np.float32)
            trace_to_onnx(body, sample, path, opset=13, dynamic_batch=True)
            self.compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        self.output_tail = self(np.zeros((1, 3, *self.input_hw), dtype=np.float32)).shape[1:]

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, 3, H, W) normalised crops -> float32 heatmaps (N, K, h, w)."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if batch.shape[1:] != (3, *self.input_hw):
            raise PosekitError(
                f"takes (N, 3, {self.input_hw[0]}, {self.input_hw[1]}) crops, got {batch.shape}"
            )
        if len(batch) == 0:
            return np.zeros((0, *self.output_tail), dtype=np.float32)
        features = self.compiled({0: batch})[0]
        if self.head is None:
            return np.ascontiguousarray(features, dtype=np.float32)
        with torch.inference_mode():
            return self.head(torch.from_numpy(features)).numpy()
