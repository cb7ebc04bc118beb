"""The PyTorch heatmap backend: a pose network behind the HeatmapBackend interface (numpy in and out)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TorchBackend:
    """Runs a pose network on float32 NCHW numpy batches and returns float32 heatmaps (N, K, h, w)."""

    def __init__(self, model: nn.Module, device: str = "cpu") -> None:
        self.model = model.eval()
        self.device = torch.device(device)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            inputs = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)
            return self.model(inputs).float().cpu().numpy()
