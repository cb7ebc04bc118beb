"""The YOLO-pose person detector: boxes and scores, with each person's final keypoints."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from posekit.errors import MissingFileError, PosekitError
from posekit.families.yolo_pose.checkpoint import YoloPoseCheckpoint, load_checkpoint
from posekit.families.yolo_pose.postprocess import (
    CONF_THRES,
    IOU_THRES,
    MAX_DET,
    PosePredictions,
    postprocess,
)
from posekit.families.yolo_pose.preprocess import preprocess
from posekit.io.images import checked_rgb_uint8
from posekit.models.fuse import fuse_batchnorm
from posekit.paths import models_dir
from posekit.runtime import resolve_backend
from posekit.runtime.sized import RawOutputs, SizedRunners
from posekit.types import Detections

PERSON_CLASS = 0


def resolve_weights(name: str, weights: str | None) -> Path:
    """The .pt to load: `weights` as a path or a file name in the models folder; else the pulled
    model called `name` (yolo11n-pose). Raises MissingFileError saying which file and how to get it."""
    from posekit import modelstore

    if weights:
        for candidate in (Path(weights).expanduser(), models_dir() / weights):
            if candidate.is_file():
                return candidate
        raise MissingFileError(
            f"YOLO-pose checkpoint not found: {weights} (looked at {Path(weights).expanduser()} and "
            f"{models_dir() / Path(weights).name}); give its path or put it in {models_dir()}"
        )
    return modelstore.pulled_model_path(name)


def predictions_to_detections(people: PosePredictions) -> Detections:
    """Person rows of one image's predictions as Detections with their final keypoints.

    Keypoint scores are the sigmoid visibilities; a [K, 2] model has none, so each keypoint gets its
    person's box score.
    """
    person = people.classes == PERSON_CLASS
    scores = people.scores[person].astype(np.float32)
    kpt_scores = (
        people.keypoint_scores[person]
        if people.keypoint_scores is not None
        else np.repeat(scores[:, None], people.keypoints.shape[1], axis=1)
    )
    return Detections(
        people.boxes[person].astype(np.float32),
        scores,
        keypoints=people.keypoints[person].astype(np.float32),
        keypoint_scores=kpt_scores.astype(np.float32),
    )


class YoloPoseDetector:
    """Ultralytics YOLOv8/YOLO11-pose checkpoints run natively: letterbox -> network -> NMS -> image pixels.

    Options: `inp_dim` (640, a multiple of 32; images keep Ultralytics' minimal rectangle), `conf_thres`
    (0.25), `nms_thres` (0.7), `max_det` (300), `batch_size` (images per forward pass; default all
    images of one `detect` call), `tracking` (accepted for a uniform interface), `backend` / `precision`
    (posekit.runtime: the network's convolutions run there, one compiled model per letterbox size,
    the box/keypoint decode in fp32 torch; auto = OpenVINO, bf16 on CPUs with native bf16). Each
    Detections carries `keypoints` (N, K, 2) and `keypoint_scores` (N, K) in image pixels, final (no
    second opinion).
    """

    def __init__(
        self,
        name: str = "yolo11n-pose",
        weights: str | None = None,
        device: str = "cpu",
        inp_dim: int = 640,
        conf_thres: float = CONF_THRES,
        nms_thres: float = IOU_THRES,
        max_det: int = MAX_DET,
        batch_size: int | None = None,
        tracking: bool = False,
        backend: str = "auto",
        precision: str = "auto",
    ) -> None:
        if inp_dim <= 0 or inp_dim % 32:
            raise PosekitError(f"{name}: input size {inp_dim} must be a positive multiple of 32")
        self.checkpoint: YoloPoseCheckpoint = load_checkpoint(resolve_weights(name, weights))
        self.name = name
        self.device = torch.device(device)
        fuse_batchnorm(self.checkpoint.network)
        self.network = self.checkpoint.network.to(self.device)
        self.kpt_shape = self.checkpoint.kpt_shape
        self.num_joints = self.kpt_shape[0]
        self.input_size = inp_dim
        self.stride = int(max(self.network.strides))
        self.conf_thres, self.nms_thres, self.max_det = conf_thres, nms_thres, max_det
        self.batch_size = batch_size
        self.backend = resolve_backend(backend, device=str(self.device))
        self.runners = SizedRunners(RawOutputs(self.network), self.backend, precision, str(self.device))

    @torch.inference_mode()
    def run_network(self, batch: np.ndarray) -> np.ndarray:
        """The float32 NCHW letterboxed batch -> the decoded output (B, 4 + nc + K*D, A)."""
        raws = tuple(torch.from_numpy(r).to(self.device) for r in self.runners(batch))
        return self.network.decode(raws, batch.shape[2:]).float().cpu().numpy()

    def predict(self, images: Sequence[np.ndarray]) -> list[PosePredictions]:
        """Every class's people in each RGB uint8 image, in image pixels, best first.

        Images of one shape share a forward pass (up to `batch_size`), each in Ultralytics' minimal
        rectangle, so a result never depends on which other images came in the same call.
        """
        images = [checked_rgb_uint8(image, self.name) for image in images]
        results: list[PosePredictions | None] = [None] * len(images)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for index, image in enumerate(images):
            by_shape.setdefault(image.shape, []).append(index)
        for indices in by_shape.values():
            step = self.batch_size or len(indices)
            for start in range(0, len(indices), step):
                chunk = indices[start : start + step]
                batch, boxes = preprocess([images[i] for i in chunk], self.input_size, self.stride)
                output = self.run_network(batch)
                people = postprocess(
                    output,
                    boxes,
                    self.kpt_shape,
                    self.network.nc,
                    self.conf_thres,
                    self.nms_thres,
                    self.max_det,
                )
                for i, found in zip(chunk, people):
                    results[i] = found
        return [found for found in results if found is not None]  # every image is in one chunk

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """People in each RGB uint8 image: xyxy boxes, scores and keypoints, best first."""
        return [predictions_to_detections(people) for people in self.predict(images)]
