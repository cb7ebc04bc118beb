"""Every pose model satisfies the PoseModel protocol (posekit.pose.types): mypy accepts each where a
PoseModel is expected, and each has the protocol's one `estimate(image, people, hints=None)`."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from posekit.families.blazepose.landmarks import BlazePoseLandmarkModel
from posekit.pose.estimator import TopDownEstimator
from posekit.pose.onestage import DetectorKeypoints
from posekit.pose.types import PoseModel

REPO = Path(__file__).resolve().parents[1]
MODELS = [TopDownEstimator, BlazePoseLandmarkModel, DetectorKeypoints]
TYPED = """
from posekit.families.blazepose.landmarks import BlazePoseLandmarkModel
from posekit.pose.estimator import TopDownEstimator
from posekit.pose.onestage import DetectorKeypoints
from posekit.pose.types import PoseModel


def models(a: TopDownEstimator, b: BlazePoseLandmarkModel, c: DetectorKeypoints) -> list[PoseModel]:
    return [a, b, c]
"""


@pytest.mark.parametrize("model", MODELS, ids=lambda cls: cls.__name__)
def test_each_pose_model_has_the_protocols_estimate(model: type) -> None:
    expected = inspect.signature(PoseModel.estimate)
    actual = inspect.signature(model.estimate)
    assert list(actual.parameters) == list(expected.parameters) == ["self", "image", "people", "hints"]
    assert actual.parameters["hints"].default is None
    assert actual.return_annotation == expected.return_annotation == "Poses"
    assert isinstance(model.pose_nms, bool)
    assert "num_joints" in inspect.signature(model.__init__).parameters or hasattr(model, "num_joints")
    for name in ("estimate_tracked", "detection_extras", "track_extras"):
        assert not hasattr(model, name), name


def test_mypy_accepts_every_pose_model_as_a_pose_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = pytest.importorskip("mypy.api")
    module = tmp_path / "pose_models_typed.py"
    module.write_text(TYPED)
    monkeypatch.setenv("MYPYPATH", str(REPO / "src"))
    out, err, status = api.run(["--config-file", str(REPO / "pyproject.toml"), str(module)])
    assert status == 0, out + err
