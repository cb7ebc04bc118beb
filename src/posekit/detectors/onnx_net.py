"""A detector network exported to ONNX (`posekit export detector`), run by onnxruntime.

OnnxDetectorNet stands where the PyTorch network stands in BatchedYoloDetector (float32 B x 3 x S x S
in, decoded B x N x (5 + C) out), so the pre- and post-processing are the detector's own, unchanged.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from posekit.errors import PosekitError


class OnnxDetectorNet(nn.Module):
    """onnxruntime behind the module interface of a YOLO network; input_size is the file's (square)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        from posekit.runtime.onnx_backend import OnnxBackend

        self.onnx_path = Path(path)
        self.runner = OnnxBackend(path)
        if self.runner.input_hw is None:
            raise PosekitError(
                f"{path}: a detector's input has a fixed size, this file's height and width are free"
            )
        height, width = self.runner.input_hw
        if height != width:
            raise PosekitError(f"{path}: a detector's input is square, this file takes {height}x{width}")
        self.input_size = height

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.runner(batch.detach().cpu().numpy())).to(batch.device)


def onnx_network(path: Path) -> OnnxDetectorNet | None:
    """The ONNX network for a .onnx weights file, None for any other file (PyTorch / darknet weights)."""
    return OnnxDetectorNet(path) if Path(path).suffix.lower() == ".onnx" else None
