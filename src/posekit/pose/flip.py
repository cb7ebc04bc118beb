"""Flip test: mirror the crops, run the network, mirror the heatmaps back and swap left/right."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def flip_batch(batch: np.ndarray) -> np.ndarray:
    """Mirror a NCHW batch along the width axis."""
    return np.ascontiguousarray(batch[..., ::-1])


def flip_heatmaps(heatmaps: np.ndarray, pairs: Sequence[tuple[int, int]], shift: bool = True) -> np.ndarray:
    """Heatmaps of mirrored crops -> heatmaps of the original crops: mirror, swap pairs, and (AlphaPose's
    shift) move one column right to undo the half-pixel offset of mirroring."""
    out = heatmaps[..., ::-1].copy()
    for a, b in pairs:
        out[:, [a, b]] = out[:, [b, a]]
    if shift:
        out[..., 1:] = out[..., :-1].copy()
    return out
