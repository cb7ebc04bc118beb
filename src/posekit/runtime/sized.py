"""A runner for a network whose input size varies (letterboxed detector inputs): one compiled model per
input height x width, built on first use and kept in a small cache (the batch axis is always free).

A fixed size is also the only choice correct for any network (tracing turns shape-derived values into
constants); its speed against a free height and width: docs/benchmarks.md (benchmarks/runtime.py).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from posekit.runtime.build import Runner, build_runner

MAX_CACHED_SIZES = 4


class RawOutputs(nn.Module):
    """The part of a network with a separate decode that a backend runs: `net.raw(x)` (the per-scale maps)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return tuple(self.net.raw(x))  # type: ignore[operator]  # a network with raw() (splits_decode)


class SizedRunners:
    """Callable like a runner; builds `build_runner(model, (1, 3, H, W), ...)` per input size."""

    def __init__(
        self,
        model: nn.Module,
        backend: str = "auto",
        precision: str = "auto",
        device: str = "cpu",
        max_sizes: int = MAX_CACHED_SIZES,
        **options,
    ) -> None:
        self.model = model
        self.backend, self.precision, self.device = backend, precision, device
        self.max_sizes = max_sizes
        self.options = options
        self.runners: dict[tuple[int, int], Runner] = {}

    def runner(self, input_hw: tuple[int, int]) -> Runner:
        """The runner for inputs of this (height, width); the least recently built one is dropped."""
        key = (int(input_hw[0]), int(input_hw[1]))
        if key not in self.runners:
            if len(self.runners) >= self.max_sizes:
                self.runners.pop(next(iter(self.runners)))
            self.runners[key] = build_runner(
                self.model, (1, 3, *key), self.backend, self.precision, self.device, **self.options
            )
        return self.runners[key]

    def __call__(self, batch: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
        return self.runner(batch.shape[2:])(batch)
