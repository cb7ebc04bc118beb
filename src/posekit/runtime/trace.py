"""Tracing a torch network into an ONNX file: one input `input`; one output `output`, or `output0`,
`output1`... for a network returning a tuple (used by the ONNX export and the onnx/openvino backends)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

INPUT_NAME = "input"
OUTPUT_NAME = "output"


def output_names(count: int) -> list[str]:
    """`output` for one output, else `output0`... `output{count-1}`."""
    return [OUTPUT_NAME] if count == 1 else [f"{OUTPUT_NAME}{i}" for i in range(count)]


def count_outputs(net: nn.Module, sample: np.ndarray) -> int:
    """How many tensors `net` returns for `sample` (1 for a plain tensor)."""
    with torch.inference_mode():
        out = net(torch.from_numpy(sample))
    return len(out) if isinstance(out, (tuple, list)) else 1


def trace_to_onnx(
    net: nn.Module,
    sample: np.ndarray,
    path: str | Path,
    opset: int,
    dynamic_batch: bool,
    dynamic_hw: bool = False,
) -> list[str]:
    """Write `net` traced on `sample` to `path` (legacy TorchScript exporter, constants folded); the
    batch axis free when dynamic_batch, height and width free when dynamic_hw (the outputs' axes 2, 3
    too: only for fully convolutional networks). Returns the output names."""
    names = output_names(count_outputs(net, sample))
    axes: dict[int, str] = {}
    if dynamic_batch:
        axes[0] = "batch"
    if dynamic_hw:
        axes.update({2: "height", 3: "width"})
    dynamic_axes = {INPUT_NAME: axes} if axes else None
    if dynamic_axes and dynamic_batch:
        dynamic_axes.update({name: {0: "batch"} for name in names})
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.from_numpy(sample),),
            str(path),
            input_names=[INPUT_NAME],
            output_names=names,
            opset_version=opset,
            do_constant_folding=True,
            dynamic_axes=dynamic_axes,
            dynamo=False,
        )
    return names
