"""The one way tests reach ../shared/data (real data made by others): skip cleanly when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path | None:
    """The shared data folder beside the repo (or $POSEKIT_SHARED_DATA), or None."""
    env = os.environ.get("POSEKIT_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates += [REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def shared_data(name: str) -> Path:
    """Path of one data set under shared/data; skips the test when it is not there.

    On CI (CI=true) the data must be there, so absence fails instead of skipping.
    """
    root = shared_data_root()
    path = root / name if root else None
    if path is None or not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared data set {name!r} not found beside the repo")
        pytest.skip(f"shared data set {name!r} not found (../shared/data is absent in a user's clone)")
    return path


def shared_reference(name: str) -> Path:
    """A reference file under ../shared/reference (skips, or fails on CI, when absent)."""
    root = shared_data_root()
    path = root.parent / "reference" / name if root else None
    if path is None or not path.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared reference {name!r} not found beside the repo")
        pytest.skip(f"shared reference {name!r} not found (../shared/reference is absent)")
    return path
