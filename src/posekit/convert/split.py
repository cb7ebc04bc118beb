"""Deterministic train/val split by ratio and seed."""

from __future__ import annotations

import random

from posekit.errors import PosekitError


def val_count(n: int, ratio: float) -> int:
    """How many of n items go to val: n * ratio rounded half up, at least 1 and at most n - 1 when n >= 2."""
    if not 0.0 < ratio < 1.0:
        raise PosekitError(f"--ratio must be between 0 and 1 (the fraction of images for val), got {ratio}")
    if n < 2:
        return 0
    return min(max(int(n * ratio + 0.5), 1), n - 1)


def split_indices(n: int, ratio: float, seed: int) -> tuple[list[int], list[int]]:
    """(train, val) index lists, each ascending; the same n, ratio and seed always give the same split."""
    order = list(range(n))
    random.Random(seed).shuffle(order)
    k = val_count(n, ratio)
    return sorted(order[k:]), sorted(order[:k])
