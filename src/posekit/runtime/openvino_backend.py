"""The OpenVINO backend (bf16 on AMX/AVX512-BF16 CPUs, else fp32).

The torch network is traced to ONNX in a temporary folder (no file left behind) and compiled by
OpenVINO's CPU plugin. With `fp32_output_conv` (FastPose), a last Conv2d that is the network's final
operation (0.5% of FastPose's FLOPs) is split off and run in fp32 PyTorch on the features, so heatmaps
are never rounded to bf16, whose 8-bit mantissa ties neighbouring pixels before the argmax.
Its speed against the other backends: docs/benchmarks.md (benchmarks/backends.py).
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
from posekit.runtime.precision import last_conv_name, replace_submodule, resolve_precision
from posekit.runtime.trace import trace_to_onnx

INSTALL_HINT = "pip install 'posekit[openvino]'"


def openvino_available() -> bool:
    """True when the openvino package is installed."""
    return importlib.util.find_spec("openvino") is not None


def split_output_conv(model: nn.Module, input_hw: tuple[int, int]) -> tuple[nn.Module, nn.Module | None]:
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
        want = model(probe)
        try:
            got = head(body(probe))
        except (RuntimeError, TypeError):  # a tuple output, or a conv whose input is not the body's output
            return model, None
        same = isinstance(want, torch.Tensor) and got.shape == want.shape
        same = same and torch.allclose(got, want, rtol=1e-4, atol=1e-5)
    return (body, head) if same else (model, None)


class OpenVinoBackend:
    """Runner for a torch network through OpenVINO on the CPU: float32 NCHW in, float32 out (a tuple of
    arrays for a network returning a tuple). `input_hw` is the traced size; with dynamic_hw the compiled
    model takes any height and width (fully convolutional networks only)."""

    def __init__(
        self,
        model: nn.Module,
        input_hw: tuple[int, int],
        precision: str = "auto",
        threads: int | None = None,
        fp32_output_conv: bool = True,
        dynamic_hw: bool = False,
    ) -> None:
        if not openvino_available():
            raise PosekitError(f"the openvino backend needs OpenVINO: {INSTALL_HINT}")
        import openvino as ov

        self.input_hw = (int(input_hw[0]), int(input_hw[1]))
        self.dynamic_hw = dynamic_hw
        self.precision = resolve_precision(precision, "cpu")
        model = model.cpu().float().eval()
        body, self.head = split_output_conv(model, self.input_hw) if fp32_output_conv else (model, None)
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
            trace_to_onnx(body, sample, path, opset=13, dynamic_batch=True, dynamic_hw=dynamic_hw)
            self.compiled = core.compile_model(core.read_model(str(path)), "CPU", config)
        self.output_count = len(self.compiled.outputs)
        probe = self(sample)
        self.output_tails = [out.shape[1:] for out in (probe if isinstance(probe, tuple) else (probe,))]
        self.output_tail = self.output_tails[0]

    def __call__(self, batch: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
        """float32 (N, 3, H, W) input (e.g. normalised crops) -> float32 output (heatmaps (N, K, h, w))."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if (
            batch.ndim != 4
            or batch.shape[1] != 3
            or (not self.dynamic_hw and batch.shape[2:] != self.input_hw)
        ):
            raise PosekitError(
                f"takes (N, 3, {self.input_hw[0]}, {self.input_hw[1]}) crops, got {batch.shape}"
            )
        if len(batch) == 0 and hasattr(self, "output_tails"):
            empty = [np.zeros((0, *tail), dtype=np.float32) for tail in self.output_tails]
            return empty[0] if len(empty) == 1 else tuple(empty)
        result = self.compiled({0: batch})
        outputs = [np.ascontiguousarray(result[i], dtype=np.float32) for i in range(self.output_count)]
        if self.head is not None:
            with torch.inference_mode():
                outputs = [self.head(torch.from_numpy(outputs[0])).numpy()]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
