"""Choosing a backend by name and building a runner for any network: the one entry point of the layer.

A runner is a callable: float32 NCHW numpy batch -> float32 numpy output (a tuple of arrays when the
network returns a tuple). BACKENDS maps each name to its builder; "auto" picks per device and CPU:
OpenVINO on the CPU when it is installed (bf16 where the CPU has it natively, through `precision`);
without it, torch on CPUs with native bf16, onnxruntime on other CPUs, torch on GPUs. Why this order:
docs/benchmarks.md (benchmarks/runtime.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from posekit.choices import BACKEND_CHOICES
from posekit.errors import PosekitError
from posekit.runtime import onnx_backend, openvino_backend
from posekit.runtime.devices import check_backend_device, on_cpu
from posekit.runtime.precision import cpu_has_native_bf16, optimize_for_inference, resolve_precision
from posekit.runtime.torch_backend import TorchBackend

Runner = Callable[[np.ndarray], "np.ndarray | tuple[np.ndarray, ...]"]


def _torch(model, sample, device, precision, options) -> Runner:
    fast = optimize_for_inference(model, device=device, precision=precision, compile=options["compile"])
    return TorchBackend(fast, device=device)


def _onnx(model, sample, device, precision, options) -> Runner:
    if precision == "bf16":
        raise PosekitError(
            "onnxruntime runs fp32 on the CPU: use --precision fp32/auto, or openvino/torch for bf16"
        )
    return onnx_backend.onnx_from_module(
        model, sample, threads=options["threads"] or torch.get_num_threads(), dynamic_hw=options["dynamic_hw"]
    )


def _openvino(model, sample, device, precision, options) -> Runner:
    check_backend_device("openvino", device)
    return openvino_backend.OpenVinoBackend(
        model,
        sample.shape[2:],
        precision=precision,
        threads=options["threads"],
        fp32_output_conv=options["fp32_output_conv"],
        dynamic_hw=options["dynamic_hw"],
    )


# backend name -> builder(model, sample, device, precision, options) -> Runner
BACKENDS: dict[str, Callable[..., Runner]] = {"torch": _torch, "onnx": _onnx, "openvino": _openvino}


def resolve_backend(kind: str, source: str | Path | None = None, device: str = "cpu") -> str:
    """ "auto" -> "onnx" for a .onnx file, else on the CPU "openvino" when it is installed, else "torch"
    with native bf16, else "onnx" when onnxruntime is installed; "torch" off the CPU and as the last
    resort. Explicit names are checked and kept."""
    if kind not in BACKEND_CHOICES:
        raise PosekitError(f"unknown backend {kind!r}: choose one of {', '.join(BACKEND_CHOICES)}")
    if kind != "auto":
        return kind
    if source is not None and Path(source).suffix.lower() == ".onnx":
        return "onnx"
    if not on_cpu(device):
        return "torch"
    if openvino_backend.openvino_available():
        return "openvino"
    if not cpu_has_native_bf16() and onnx_backend.onnxruntime_available():
        return "onnx"
    return "torch"


def build_runner(
    model: nn.Module,
    example: np.ndarray | torch.Tensor | Sequence[int],
    backend: str = "auto",
    precision: str = "auto",
    device: str = "cpu",
    *,
    dynamic_hw: bool = False,
    fp32_output_conv: bool = False,
    compile: bool = False,
    threads: int | None = None,
) -> Runner:
    """A runner for `model` on `backend` ("auto", "torch", "onnx", "openvino"; see resolve_backend).

    `example` is an input batch or its shape (N, 3, H, W): the size the onnx/openvino backends trace and
    compile (the batch axis is always free; `dynamic_hw` frees height and width too, for fully
    convolutional networks). `precision` "auto" is bf16 on CPUs with native bf16 (AMX, AVX512-BF16) for
    torch and openvino, else fp32; onnxruntime is fp32. `fp32_output_conv` keeps a final Conv2d in fp32
    (FastPose's heatmap conv); `compile` adds torch.compile to the torch backend. The caller's model is
    not changed.
    """
    kind = resolve_backend(backend, device=device)
    # onnxruntime has no bf16 CPU kernels: "auto" is fp32 there, an explicit bf16 is refused
    chosen = "fp32" if kind == "onnx" and precision == "auto" else resolve_precision(precision, device)
    if isinstance(example, (np.ndarray, torch.Tensor)):
        shape = tuple(example.shape)
    else:
        shape = tuple(int(v) for v in example)
    if len(shape) != 4 or shape[1] != 3:
        raise PosekitError(f"a runner's example input is (N, 3, H, W), got {shape}")
    sample = np.zeros((1, *shape[1:]), dtype=np.float32)
    options = {
        "compile": compile,
        "threads": threads,
        "dynamic_hw": dynamic_hw,
        "fp32_output_conv": fp32_output_conv,
    }
    return BACKENDS[kind](model.eval(), sample, device, chosen, options)
