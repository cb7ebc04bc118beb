"""Reading JSON files with one clear error naming the file, and a nesting-depth limit.

Every posekit reader of JSON (results, detections, ground truth, pose json) goes through read_json, so
a file nested thousands of levels deep is one PosekitError, never a RecursionError.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from posekit.errors import PosekitError

MAX_JSON_DEPTH = 64  # COCO, AlphaPose and PoseFlow files are at most 5 levels deep
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(raw: bytes) -> int:
    """The deepest nesting of [ and { in JSON text (brackets inside strings are not counted)."""
    brackets = np.frombuffer(_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS), dtype=np.uint8)
    if brackets.size == 0:
        return 0
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def parse_json(raw: bytes, source: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON bytes; PosekitError '<source>: ...' when they are not UTF-8 JSON or nest too deep."""
    depth = json_depth(raw)
    if depth > max_depth:
        raise PosekitError(f"{source}: JSON nested {depth} levels deep (the limit is {max_depth}); not read")
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError as exc:  # not JSON, not UTF-8, or a number beyond Python's 4300-digit limit
        raise PosekitError(f"{source}: not valid JSON ({' '.join(str(exc).split())[:200]})") from None
    except RecursionError:
        raise PosekitError(f"{source}: JSON nested too deeply; not read") from None


def read_json(path: str | Path, what: str = "file") -> Any:
    """Parse a JSON file; PosekitError '<path>: <what> not found', '<path>: not valid JSON (...)', or
    '<path>: JSON nested N levels deep ...' when it is deeper than MAX_JSON_DEPTH."""
    path = Path(path)
    if path.is_dir():
        raise PosekitError(f"{path}: is a folder, expected a {what}")
    if path.exists() and not path.is_file():  # a pipe would block the read
        raise PosekitError(f"{path}: is not a regular file, expected a {what}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PosekitError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise PosekitError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
    return parse_json(raw, str(path))
