"""Loading the models of a run from its ModelOptions: the person detector (or a detection file) and
the pose model, chosen from POSE_MODEL_BUILDERS (the embedded default, a keypoint detector's own
keypoints, or a FastPose config + checkpoint), each built with every setting it takes."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from posekit.detectors.base import Detector, KeypointDetector
from posekit.errors import PosekitError
from posekit.infer.detfile import DetectionFile
from posekit.infer.options import ModelOptions
from posekit.pose.types import PoseModel

Log = Callable[[str], None]


def resolve_device(device: str) -> str:
    """The torch device of a run: `device` itself, or for "auto" the first GPU if any, else "cpu"."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_detector(model: ModelOptions, tracking: bool = False, log: Log = print) -> Detector | DetectionFile:
    """The run's person detector (model.detector, already a canonical name), or the boxes of
    model.detfile (a COCO-style detection json); tracking: the detector's threshold for tracked runs."""
    if model.detfile:
        detections = DetectionFile(model.detfile)
        log(f"Using {len(detections)} images' detections from {model.detfile}")
        return detections
    from posekit.detectors import build_detector

    log(f"Loading {model.detector} detector..")
    # BlazePose runs on LiteRT: no torch device to pick (and no torch to import)
    device = model.device if model.detector == "blazepose" else resolve_device(model.device)
    return build_detector(
        model.detector,
        weights=model.detector_weights,
        device=device,
        tracking=tracking,
        backend=model.detector_backend,
        precision=model.precision,
    )


def _fastpose(model: ModelOptions, detector: Any, log: Log) -> PoseModel:
    from posekit.config import load_config
    from posekit.pose.estimator import TopDownEstimator

    assert model.cfg and model.checkpoint  # ModelOptions pairs them
    cfg = load_config(model.cfg)
    log(f"Loading pose model from {model.checkpoint}...")
    return TopDownEstimator.from_checkpoint(
        cfg,
        model.checkpoint,
        resolve_device(model.device),
        backend=model.backend,
        precision=model.precision,
        compile=model.compile,
        batch_size=model.posebatch,
        flip=model.flip,
        subpixel=model.subpixel,
    )


def _detector_keypoints(model: ModelOptions, detector: Any, log: Log) -> PoseModel:
    from posekit.pose.onestage import DetectorKeypoints

    log(f"Using the {detector.name} detector's own keypoints ({detector.num_joints} per person)")
    return DetectorKeypoints(detector.num_joints)


def _default_model(model: ModelOptions, detector: Any, log: Log) -> PoseModel:
    from posekit.families.blazepose.landmarks import BlazePoseLandmarkModel

    log("Loading the default pose model (BlazePose landmarks -> COCO-17)...")
    for name, given in (("--flip", model.flip), ("--subpixel", model.subpixel)):
        if given:
            warnings.warn(
                f"{name} applies to FastPose checkpoints; the default model ignores it", stacklevel=3
            )
    return BlazePoseLandmarkModel()


# pose model -> builder(model options, the run's detector, log): every setting is given at construction
POSE_MODEL_BUILDERS: dict[str, Callable[[ModelOptions, Any, Log], PoseModel]] = {
    "fastpose": _fastpose,
    "detector": _detector_keypoints,
    "default": _default_model,
}


def pose_model_kind(model: ModelOptions, detector: Any = None) -> str:
    """Which POSE_MODEL_BUILDERS entry the options choose: "fastpose" with cfg + checkpoint; without
    them by model.pose_model: "default" the embedded default model, "detector" the keypoints of a
    keypoint detector such as YOLO-pose (one-stage), "auto" the detector's keypoints when it has
    them, else the default model."""
    one_stage = isinstance(detector, KeypointDetector)
    if model.pose_model == "detector" and not one_stage:
        name = getattr(detector, "name", "this")
        raise PosekitError(
            f"--pose_model detector needs a keypoint detector (e.g. yolo11n-pose); {name} has none"
        )
    if model.cfg:
        return "fastpose"
    return "detector" if one_stage and model.pose_model != "default" else "default"


def load_pose_estimator(model: ModelOptions, detector: Any = None, log: Log = print) -> PoseModel:
    """The pose model the options choose (pose_model_kind), built with all its settings."""
    return POSE_MODEL_BUILDERS[pose_model_kind(model, detector)](model, detector, log)
