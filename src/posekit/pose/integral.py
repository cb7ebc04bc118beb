"""Integral (soft-argmax) regression: network maps -> expected coordinates and AlphaPose's scores.

The maps of each joint are normalised over all pixels (NORM_TYPE softmax, sigmoid or divide_sum), made a
probability by dividing by their sum, then reduced to the mean column and row (AlphaPose's symmetric
integral regression, `_integral_tensor`). Scores: the largest sigmoid value for "sigmoid", 1.0 otherwise.
"""

from __future__ import annotations

import numpy as np

from posekit.errors import ConfigError

NORM_TYPES = ("softmax", "sigmoid", "divide_sum")


def _weights(flat: np.ndarray, norm_type: str) -> np.ndarray:
    """Each map's values after AlphaPose's norm_heatmap, up to a per-map factor that the division by the
    total cancels: exp(x - max) for softmax, sigmoid(x), x itself for divide_sum (a new array)."""
    if norm_type == "softmax":
        out = flat - flat.max(axis=-1, keepdims=True)
        return np.exp(out, out=out)
    if norm_type == "sigmoid":
        out = np.negative(flat)
        np.exp(out, out=out)
        out += 1.0
        return np.reciprocal(out, out=out)
    if norm_type == "divide_sum":
        return flat
    raise ConfigError(f"LOSS.NORM_TYPE must be one of {', '.join(NORM_TYPES)}, got {norm_type!r}")


def integral_coords(maps: np.ndarray, norm_type: str = "softmax") -> tuple[np.ndarray, np.ndarray]:
    """Maps (N, K, h, w) -> expected (x, y) in map pixels (N, K, 2) and scores (N, K).

    The marginals are divided by the map's total, which equals normalising the map and dividing it by
    its sum first (AlphaPose's order) without more passes over it."""
    maps = np.asarray(maps, dtype=np.float32)
    n, k, h, w = maps.shape
    weights = _weights(maps.reshape(n, k, h * w), norm_type)
    scores = weights.max(axis=-1).astype(np.float64) if norm_type == "sigmoid" else np.ones((n, k))
    grid = weights.reshape(n, k, h, w)
    col = grid.sum(axis=2).astype(np.float64)  # (N, K, w)
    row = grid.sum(axis=3).astype(np.float64)  # (N, K, h)
    total = col.sum(axis=-1)
    x = (col * np.arange(w)).sum(axis=-1) / total
    y = (row * np.arange(h)).sum(axis=-1) / total
    return np.stack([x, y], axis=-1), scores
