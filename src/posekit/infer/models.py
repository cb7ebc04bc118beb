"""Loading the pose model of a run: the embedded default, or a FastPose config + checkpoint."""

from __future__ import annotations

import warnings

from posekit.detectors.base import KeypointDetector
from posekit.errors import PosekitError
from posekit.pose.types import PoseModel


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
) -> PoseModel:
    """The embedded default model when neither --cfg nor --checkpoint is given (or, for a keypoint
    detector such as YOLO-pose, the detector's own keypoints: one-stage), else the FastPose checkpoint
    with its config (both are needed together) on the chosen backend (see build_backend)."""
    if not cfg_path and not checkpoint and isinstance(detector, KeypointDetector):
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
