"""The pose models a run loads come from one registry (posekit.infer.models.POSE_MODEL_BUILDERS),
chosen by the ModelOptions, each built with every setting it takes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from posekit.config import load_config
from posekit.errors import PosekitError
from posekit.infer.models import POSE_MODEL_BUILDERS, load_pose_estimator, pose_model_kind
from posekit.infer.options import ModelOptions
from posekit.pose.estimator import TopDownEstimator
from tests.pipeline_fakes import FakeDetector

TINY_CFG = Path(__file__).resolve().parents[1] / "configs" / "tests" / "tiny_res18_128x96.yaml"


class OneStageDetector(FakeDetector):
    """A keypoint detector (posekit.detectors.base.KeypointDetector: its people come with keypoints)."""

    num_joints = 17


def test_the_options_choose_the_registry_entry():
    one_stage, two_stage = OneStageDetector(), FakeDetector()
    fastpose = ModelOptions(cfg="c.yaml", checkpoint="w.pth")
    assert sorted(POSE_MODEL_BUILDERS) == ["default", "detector", "fastpose"]
    assert pose_model_kind(ModelOptions(), two_stage) == "default"
    assert pose_model_kind(ModelOptions(), one_stage) == "detector"
    assert pose_model_kind(ModelOptions(pose_model="default"), one_stage) == "default"
    assert pose_model_kind(fastpose, one_stage) == pose_model_kind(fastpose, two_stage) == "fastpose"
    with pytest.raises(PosekitError, match=r"needs a keypoint detector \(e.g. yolo11n-pose\); fake has none"):
        pose_model_kind(ModelOptions(pose_model="detector"), two_stage)


def test_a_fastpose_model_is_built_with_every_setting(tmp_path):
    from posekit.models.builder import build_pose_model

    cfg = load_config(TINY_CFG)
    torch.save(build_pose_model(cfg.model, cfg.data_preset).state_dict(), tmp_path / "tiny.pth")
    model = ModelOptions(
        cfg=str(TINY_CFG),
        checkpoint=str(tmp_path / "tiny.pth"),
        backend="torch",
        precision="fp32",
        device="cpu",
        posebatch=8,
        flip=True,
        subpixel=True,
    )
    estimator = load_pose_estimator(model, log=lambda message: None)
    assert isinstance(estimator, TopDownEstimator)
    assert (estimator.batch_size, estimator.flip, estimator.subpixel) == (8, True, True)
    assert estimator.decoder.subpixel
