"""What YOLOv3-SPP and YOLOX share: batching, the network on a runtime backend, person filtering and NMS.

The network runs through posekit.runtime (torch, onnxruntime or OpenVINO, bf16 where the CPU has it):
a network with `raw(x)` and `decode(raws, input_hw)` (YOLOX, darknet) runs only its convolutional part
there and the grid decode in fp32 torch, so pixel coordinates are never rounded to bf16 (8-bit mantissa:
steps of 2-4 px at 500 px). Compiled models are per input size (batch free), kept in a small cache.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from posekit.detectors.letterbox import Placement, boxes_to_image
from posekit.detectors.nms import crowd_nms
from posekit.detectors.onnx_net import OnnxDetectorNet
from posekit.errors import PosekitError
from posekit.io.images import checked_rgb_uint8
from posekit.models.fuse import fuse_batchnorm
from posekit.runtime import Runner, resolve_backend
from posekit.runtime.sized import RawOutputs, SizedRunners
from posekit.types import Detections

PERSON_CLASS = 0


def splits_decode(model: nn.Module) -> bool:
    """True for a network offering raw() and decode() (the decode then runs in fp32 torch)."""
    return callable(getattr(model, "raw", None)) and callable(getattr(model, "decode", None))


def cxcywh_to_xyxy(boxes: torch.Tensor) -> torch.Tensor:
    """(N, 4) centre-size boxes to corner boxes."""
    half = boxes[:, 2:4] / 2
    return torch.cat([boxes[:, 0:2] - half, boxes[:, 0:2] + half], dim=1)


def check_input_size(size: int, name: str) -> int:
    """Network input sizes must be positive multiples of 32 (the coarsest stride)."""
    if size <= 0 or size % 32:
        raise PosekitError(f"{name}: input size {size} must be a positive multiple of 32")
    return size


class BatchedYoloDetector:
    """Runs a YOLO-style network (input (B,3,S,S) -> (B, N, 5+C) decoded cx,cy,w,h,obj,cls...) in batches.

    `batch_size` None runs all images of one `detect` call as one batch (the caller's --detbatch).
    `backend` / `precision` choose the runtime (posekit.runtime.build_runner; "auto" in the detectors
    built by name, plain torch fp32 here by default); an OnnxDetectorNet (.onnx weights) is onnxruntime.

    Subclasses give `preprocess` (image -> CHW float32 input and its Placement) and `person_scores`
    (predictions -> per row the score NMS ranks by, the box score reported, and which rows are persons).
    """

    def __init__(
        self,
        name: str,
        model: nn.Module,
        device: str,
        input_size: int,
        conf_thres: float,
        nms_thres: float,
        batch_size: int | None,
        backend: str = "torch",
        precision: str = "fp32",
    ) -> None:
        if batch_size is not None and batch_size < 1:
            raise PosekitError(f"{name}: detection batch size must be >= 1, got {batch_size}")
        self.name = name
        self.device = torch.device(device)
        self.model = fuse_batchnorm(model.eval()).to(self.device)
        self.input_size = input_size
        self.conf_thres = conf_thres
        self.nms_thres = nms_thres
        self.batch_size = batch_size
        self.precision = precision
        self.runners: Runner | SizedRunners
        if isinstance(model, OnnxDetectorNet):
            self.backend, self.runners = "onnx", model.runner
        else:
            self.backend = resolve_backend(backend, device=str(self.device))
            # the network per input size, built on first use (tracing and compiling take seconds)
            net = RawOutputs(self.model) if splits_decode(self.model) else self.model
            self.runners = SizedRunners(net, self.backend, precision, str(self.device))

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, Placement]:
        """One RGB uint8 image -> (3, S, S) float32 network input and where the image sits in it."""
        raise NotImplementedError

    def person_scores(self, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Rows (N, 5+C) of one image -> (NMS ranking score (N,), reported box score (N,), keep mask (N,))."""
        raise NotImplementedError

    @torch.inference_mode()
    def forward(self, images: Sequence[np.ndarray]) -> tuple[torch.Tensor, list[Placement]]:
        """Decoded network output (B, N, 5 + C) for a batch of images, with each image's placement."""
        inputs, placements = zip(*(self.preprocess(checked_rgb_uint8(img, self.name)) for img in images))
        batch = np.stack(inputs)
        out = self.runners(batch)
        if splits_decode(self.model) and not isinstance(self.model, OnnxDetectorNet):
            preds = self.model.decode(  # type: ignore[operator]  # splits_decode: it has decode()
                tuple(torch.from_numpy(r).to(self.device) for r in out), batch.shape[2:]
            )
        else:
            preds = torch.from_numpy(out)
        return preds, list(placements)

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """People in each RGB uint8 image: xyxy boxes in image pixels and box scores, in NMS order."""
        results: list[Detections] = []
        step = self.batch_size or max(len(images), 1)
        for start in range(0, len(images), step):
            chunk = images[start : start + step]
            preds, placements = self.forward(chunk)
            for image, pred, placement in zip(chunk, preds, placements):
                results.append(self._postprocess(pred, placement, image.shape[:2]))
        return results

    def _postprocess(self, pred: torch.Tensor, placement: Placement, image_hw: tuple[int, int]) -> Detections:
        ranked, scored, keep = self.person_scores(pred)
        boxes = cxcywh_to_xyxy(pred[keep, :4]).double().cpu().numpy()
        ranking = ranked[keep].double().cpu().numpy()
        scores = scored[keep].double().cpu().numpy()
        if len(scores) == 0:
            return Detections.empty()
        order = crowd_nms(boxes, ranking, self.nms_thres)
        return Detections(boxes_to_image(boxes[order], placement, image_hw), scores[order].astype(np.float32))
