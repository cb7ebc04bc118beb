"""Integral (soft-argmax) regression: network maps -> expected coordinates and AlphaPose's scores.

The maps of each joint are normalised over all pixels (NORM_TYPE softmax, sigmoid or divide_sum), made a
probability by dividing by their sum, then reduced to the mean column and row (AlphaPose's symmetric
integral regression, `_integral_tensor`). Scores: the largest sigmoid value for "sigmoid", 1.0 otherwise.
"""

from __future__ import annotations

import numpy as np

from posekit.errors import ConfigError

NORM_TYPES = ("softmax", "sigmoid", "divide_sum")


def normalise_maps(flat: np.ndarray, norm_type: str) -> np.ndarray:
    """AlphaPose's norm_heatmap over the last axis of (N, K, h*w) maps."""
    if norm_type == "softmax":
        shifted = np.exp(flat - flat.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)
    if norm_type == "sigmoid":
        return 1.0 / (1.0 + np.exp(-flat))
    if norm_type == "divide_sum":
        return flat / flat.sum(axis=-1, keepdims=True)
    raise ConfigError(f"LOSS.NORM_TYPE must be one of {', '.join(NORM_TYPES)}, got {norm_type!r}")


def integral_coords(maps: np.ndarray, norm_type: str = "softmax") -> tuple[np.ndarray, np.ndarray]:
    """Maps (N, K, h, w) -> expected (x, y) in map pixels (N, K, 2) and scores (N, K)."""
    maps = np.asarray(maps, dtype=np.float64)
    n, k, h, w = maps.shape
    normed = normalise_maps(maps.reshape(n, k, h * w), norm_type)
    scores = normed.max(axis=-1) if norm_type == "sigmoid" else np.ones((n, k))
    prob = (normed / normed.sum(axis=-1, keepdims=True)).reshape(n, k, h, w)
    x = (prob.sum(axis=2) * np.arange(w)).sum(axis=-1)
    y = (prob.sum(axis=3) * np.arange(h)).sum(axis=-1)
    return np.stack([x, y], axis=-1), scores
