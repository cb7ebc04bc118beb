"""The PyTorch backend: a network behind the runner interface (float32 numpy in, float32 numpy out)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class TorchBackend:
    """Runs a network on float32 NCHW numpy batches; returns its float32 output as numpy (a tuple of
    arrays for a network returning a tuple), e.g. FastPose heatmaps (N, K, h, w)."""

    def __init__(self, model: nn.Module, device: str = "cpu") -> None:
        self.model = model.eval()
        self.device = torch.device(device)

    def __call__(self, batch: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
        with torch.inference_mode():
            inputs = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).to(self.device)
            out = self.model(inputs)
            if isinstance(out, (tuple, list)):
                return tuple(t.float().cpu().numpy() for t in out)
            return out.float().cpu().numpy()
