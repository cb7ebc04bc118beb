"""Loading the models of a run: the person detector (or a detection file) and the pose model
(the embedded default, a keypoint detector's own keypoints, or a FastPose config + checkpoint)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

from posekit.choices import POSE_MODELS
from posekit.detectors.base import Detector, KeypointDetector
from posekit.errors import PosekitError
from posekit.infer.detfile import DetectionFile
from posekit.pose.types import PoseModel


def resolve_device(device: str) -> str:
    """The torch device of a run: `device` itself, or for "auto" the first GPU if any, else "cpu"."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def load_detector(
    name: str,
    weights: str | None = None,
    detfile: str | None = None,
    device: str = "auto",
    tracking: bool = False,
    log: Callable[[str], None] = print,
    backend: str = "auto",
    precision: str = "auto",
) -> Detector | DetectionFile:
    """The run's person detector by name, or the boxes of `detfile` (a COCO-style detection json);
    device "auto": see resolve_device; backend / precision: its network's runtime (posekit.runtime)."""
    if detfile:
        detections = DetectionFile(detfile)
        log(f"Using {len(detections)} images' detections from {detfile}")
        return detections
    from posekit.detectors import build_detector, canonical_detector_name

    key = canonical_detector_name(name)
    log(f"Loading {key} detector..")
    if key != "blazepose":  # BlazePose runs on LiteRT: no torch device to pick (and no torch to import)
        device = resolve_device(device)
    return build_detector(
        key, weights=weights, device=device, tracking=tracking, backend=backend, precision=precision
    )


def load_pose_estimator(
    cfg_path: str | None,
    checkpoint: str | None,
    device: str = "auto",
    batch_size: int = 64,
    flip: bool = False,
    log: Callable[[str], None] = print,
    backend: str = "auto",
    precision: str = "auto",
    compile: bool = False,
    refine: bool = False,
    detector=None,
    pose_model: str = "auto",
) -> PoseModel:
    """The FastPose checkpoint with its config (both are needed together) on the chosen backend (see
    build_backend); without them, by `pose_model`: "default" the embedded default model, "detector"
    the keypoints of a keypoint detector such as YOLO-pose (one-stage), "auto" the detector's
    keypoints when it has them, else the default model."""
    if pose_model not in POSE_MODELS:
        raise PosekitError(f"unknown pose model {pose_model!r}; choose one of: {', '.join(POSE_MODELS)}")
    one_stage = isinstance(detector, KeypointDetector)
    if pose_model == "detector" and not one_stage:
        name = getattr(detector, "name", "this")
        raise PosekitError(
            f"--pose_model detector needs a keypoint detector (e.g. yolo11n-pose); {name} has none"
        )
    if not cfg_path and not checkpoint and one_stage and pose_model != "default":
        from posekit.pose.onestage import DetectorKeypoints

        log(f"Using the {detector.name} detector's own keypoints ({detector.num_joints} per person)")
        return DetectorKeypoints(detector.num_joints)
    if not cfg_path and not checkpoint:
        from posekit.families.blazepose.landmarks import BlazePoseLandmarkModel

        log("Loading the default pose model (BlazePose landmarks -> COCO-17)...")
        for name, given in (("--flip", flip), ("--refine", refine)):
            if given:
                warnings.warn(
                    f"{name} applies to FastPose checkpoints; the default model ignores it", stacklevel=2
                )
        return BlazePoseLandmarkModel()
    if not cfg_path or not checkpoint:
        given, missing = ("--cfg", "--checkpoint") if cfg_path else ("--checkpoint", "--cfg")
        raise PosekitError(f"{given} needs {missing} too (or give neither to use the default model)")
    from posekit.config import load_config
    from posekit.pose.estimator import TopDownEstimator

    cfg = load_config(cfg_path)
    log(f"Loading pose model from {checkpoint}...")
    estimator = TopDownEstimator.from_checkpoint(
        cfg, checkpoint, resolve_device(device), backend=backend, precision=precision, compile=compile
    )
    estimator.batch_size = max(1, int(batch_size))
    estimator.flip = bool(flip)
    estimator.refine = bool(refine)
    return estimator
