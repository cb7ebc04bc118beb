"""Tracing a torch network into an ONNX file: one input `input`, one output `output` (used by the ONNX
export and by the OpenVINO backend, which compiles the traced file)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

INPUT_NAME = "input"
OUTPUT_NAME = "output"


def trace_to_onnx(
    net: nn.Module, sample: np.ndarray, path: str | Path, opset: int, dynamic_batch: bool
) -> None:
    """Write `net` traced on `sample` to `path` (legacy TorchScript exporter, constants folded; the batch
    axis free when dynamic_batch)."""
    dynamic_axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if dynamic_batch else None
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            (torch.from_numpy(sample),),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            opset_version=opset,
            do_constant_folding=True,
            dynamic_axes=dynamic_axes,
            dynamo=False,
        )
