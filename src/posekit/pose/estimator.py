"""Top-down pose estimation over person boxes: crop, batch, run a heatmap backend, flip, decode.

Decoding follows LOSS.TYPE (posekit.pose.decode.Decoder); the flip test averages the network maps of the
crops and of their mirrors (the set's flip pairs swapped, shifted one column), before decoding, for
every head, as AlphaPose's demo and validate.py do.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posekit.config import Config
from posekit.geometry import crop_people, normalize_crops
from posekit.pose.decode import Decoder, decoder_for_config
from posekit.pose.flip import flip_batch, flip_heatmaps
from posekit.pose.types import HeatmapBackend
from posekit.skeleton import FLIP_PAIRS, set_for_config
from posekit.types import Detections, PersonHint, Poses


class TopDownEstimator:
    """A PoseModel over any HeatmapBackend (posekit.runtime): the crop is posekit.geometry's."""

    def __init__(
        self,
        backend: HeatmapBackend,
        input_hw: Sequence[int],
        heatmap_hw: Sequence[int],
        num_joints: int = 17,
        flip: bool = False,
        batch_size: int = 64,
        subpixel: bool = False,
        flip_pairs: Sequence[tuple[int, int]] = tuple(FLIP_PAIRS),
        loss_type: str = "MSELoss",
        norm_type: str = "softmax",
    ) -> None:
        self.backend = backend
        self.input_hw = (int(input_hw[0]), int(input_hw[1]))
        self.heatmap_hw = (int(heatmap_hw[0]), int(heatmap_hw[1]))
        self.num_joints = num_joints
        self.flip = flip
        self.batch_size = batch_size
        self.subpixel = subpixel
        self.flip_pairs = list(flip_pairs)
        self.loss_type = loss_type
        self.norm_type = norm_type

    pose_nms = True

    @classmethod
    def from_checkpoint(
        cls,
        cfg: Config,
        checkpoint: str | Path,
        device: str = "cpu",
        backend: str = "auto",
        precision: str = "auto",
        compile: bool = False,
        **options,
    ) -> TopDownEstimator:
        """Estimator for a config and a checkpoint (.pth for torch/openvino, .onnx for onnx); backend
        "auto" picks the fastest one installed (posekit.runtime.resolve_backend)."""
        from posekit.pose.runner import build_backend

        runner = build_backend(backend, cfg, checkpoint, device=device, precision=precision, compile=compile)
        return cls.for_config(runner, cfg, **options)

    @classmethod
    def for_config(cls, backend: HeatmapBackend, cfg: Config, **options) -> TopDownEstimator:
        """Estimator over `backend` with the config's sizes, joint count, decoder (LOSS.TYPE, NORM_TYPE)
        and the flip pairs of its keypoint set (posekit.skeleton.set_for_config)."""
        preset = cfg.data_preset
        decoder = decoder_for_config(cfg)
        options.setdefault("flip_pairs", set_for_config(cfg).flip_pairs)
        return cls(
            backend,
            preset.image_size,
            preset.heatmap_size,
            num_joints=preset.num_joints,
            loss_type=decoder.loss_type,
            norm_type=decoder.norm_type,
            **options,
        )

    @property
    def decoder(self) -> Decoder:
        """The decoder of this estimator's head (its subpixel flag included)."""
        return Decoder(self.loss_type, self.norm_type, self.subpixel)

    def heatmaps(self, batch: np.ndarray) -> np.ndarray:
        """Network heatmaps of normalised crops, in chunks of batch_size, flip-averaged when flip is on."""
        outputs = []
        for start in range(0, len(batch), max(1, self.batch_size)):
            chunk = batch[start : start + self.batch_size]
            hms = self.backend(chunk)
            if self.flip:
                hms = (hms + flip_heatmaps(self.backend(flip_batch(chunk)), self.flip_pairs)) / 2
            outputs.append(hms)
        return np.concatenate(outputs)

    def estimate(
        self, image: np.ndarray, people: Detections, hints: Sequence[PersonHint | None] | None = None
    ) -> Poses:
        """RGB image and the people's boxes -> keypoints (N, K, 2) in image pixels and scores (N, K);
        every person is cropped from their box (hints are not used)."""
        boxes = np.asarray(people.boxes, dtype=np.float64).reshape(-1, 4)
        if len(boxes) == 0:
            return Poses(np.zeros((0, self.num_joints, 2)), np.zeros((0, self.num_joints)))
        crops, crop_boxes = crop_people(image, boxes, self.input_hw)
        hms = self.heatmaps(normalize_crops(crops))
        return Poses(*self.decoder(hms, crop_boxes))
