"""Fixtures shared by the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared_data import shared_data


@pytest.fixture(scope="session")
def coco_mini() -> Path:
    """../shared/data/coco-val-mini: 4 COCO val2017 images with keypoint annotations and detections."""
    return shared_data("coco-val-mini")


@pytest.fixture(scope="session")
def posetrack_mini() -> Path:
    """../shared/data/posetrack18-mini: PoseTrack18 frames, annotations and a 5-frame mp4."""
    return shared_data("posetrack18-mini")
