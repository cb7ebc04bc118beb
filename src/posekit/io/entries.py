"""Checking the numbers of one json entry (results, pose json, detections): finite or refused.

Every reader of people or boxes from a file goes through these, so a NaN, an infinity, a string or a
missing value is one PosekitError naming the file and the entry, never a silent score.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TypeGuard

import numpy as np

from posekit.errors import PosekitError, brief

_MISSING = object()


def field(source: str | Path, where: str, entry: object, key: str) -> object:
    """entry[key], or a PosekitError naming the file and the entry when entry is no object with it."""
    if not isinstance(entry, dict):
        raise PosekitError(f"{source}: {where} is not an object with {key!r} (got {type(entry).__name__})")
    if key not in entry:
        raise PosekitError(f"{source}: {where} has no {key!r}")
    return entry[key]


def is_number(value: object) -> TypeGuard[int | float | np.integer | np.floating]:
    """An int or float, Python's or numpy's (not a bool), that a float can hold (not a 400-digit int)."""
    if not isinstance(value, int | float | np.integer | np.floating) or isinstance(value, bool):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True


def finite_number(
    source: str | Path, where: str, entry: object, key: str, default: object = _MISSING
) -> float:
    """entry[key] as a finite float (`default` when absent and one is given); else a PosekitError
    '<source>: <where> has <key> <value>, expected a (finite) number'."""
    if default is not _MISSING and isinstance(entry, dict) and key not in entry:
        return float(default)  # type: ignore[arg-type]
    value = field(source, where, entry, key)
    if not is_number(value):
        raise PosekitError(f"{source}: {where} has {key} {brief(value)}, expected a number")
    if not math.isfinite(value):
        raise PosekitError(f"{source}: {where} has {key} {brief(value)}, expected a finite number")
    return float(value)


def finite_numbers(
    source: str | Path, where: str, entry: object, key: str, shape: str = "[x, y, w, h]"
) -> list[float]:
    """entry[key] as finite floats, as many as `shape` names ("[x, y, w, h]": a box); PosekitError
    naming the file and the entry otherwise."""
    value = field(source, where, entry, key)
    size = shape.count(",") + 1
    if not (isinstance(value, list) and len(value) == size and all(map(is_number, value))):
        raise PosekitError(f"{source}: {where} has {key} {brief(value)}, expected {shape} numbers")
    if not all(math.isfinite(v) for v in value):
        raise PosekitError(f"{source}: {where} has {key} {brief(value)} with NaN or infinite values")
    return [float(v) for v in value]


def keypoint_triplets(source: str | Path, where: str, entry: object, key: str = "keypoints") -> np.ndarray:
    """entry[key] (a flat list of 3K numbers, or K rows of 3) as a (K, 3) float64 array of finite x, y,
    score; PosekitError naming the file and the entry otherwise (NaN and infinity included)."""
    raw = field(source, where, entry, key)
    if isinstance(raw, list) and raw and all(isinstance(row, list) for row in raw):
        raw = [value for row in raw for value in row]  # [[x, y, s], ...] rows
    if not (isinstance(raw, list) and all(map(is_number, raw))):
        raise PosekitError(f"{source}: {where} has keypoints that are not a list of numbers")
    values = np.asarray(raw, dtype=np.float64)
    if values.size == 0 or values.size % 3:
        raise PosekitError(f"{source}: {where} has {values.size} keypoint values, not a multiple of 3")
    if not np.isfinite(values).all():
        bad = int(np.flatnonzero(~np.isfinite(values))[0])
        raise PosekitError(
            f"{source}: {where} has keypoints with NaN or infinite values (value {bad}: {values[bad]})"
        )
    return values.reshape(-1, 3)
