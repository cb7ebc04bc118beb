"""Loading the pose model of a run: the embedded default, a keypoint detector's own keypoints, or a
FastPose config + checkpoint."""

from __future__ import annotations

import warnings

from posekit.detectors.base import KeypointDetector
from posekit.errors import PosekitError
from posekit.pose.types import PoseModel

POSE_MODEL_CHOICES = ("auto", "default", "detector")


def load_pose_model(
    cfg_path: str | None,
    checkpoint: str | None,
    device: str = "cpu",
    batch_size: int = 64,
    flip: bool = False,
    log=print,
    backend: str = "auto",
    precision: str = "auto",
    compile: bool = False,
    detector=None,
    pose_model: str = "auto",
) -> PoseModel:
    """The FastPose checkpoint with its config (both are needed together) on the chosen backend (see
    build_backend); without them, by `pose_model`: "default" the embedded default model, "detector"
    the keypoints of a keypoint detector such as YOLO-pose (one-stage), "auto" the detector's
    keypoints when it has them, else the default model."""
    if pose_model not in POSE_MODEL_CHOICES:
        raise PosekitError(
            f"unknown pose model {pose_model!r}; choose one of: {', '.join(POSE_MODEL_CHOICES)}"
        )
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
        from posekit.pose.blazepose import BlazePoseLandmarkModel

        log("Loading the default pose model (BlazePose landmarks -> COCO-17)...")
        if flip:
            warnings.warn(
                "--flip applies to FastPose checkpoints; the default model ignores it", stacklevel=2
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
        cfg, checkpoint, device, backend=backend, precision=precision, compile=compile
    )
    estimator.batch_size = max(1, int(batch_size))
    estimator.flip = bool(flip)
    return estimator
