"""YOLOv3-SPP person detector on darknet weights (AlphaPose's default detector)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from posekit.detectors.batched import PERSON_CLASS, BatchedYoloDetector, check_input_size
from posekit.detectors.darknet import DarknetModel, load_darknet_weights, parse_cfg
from posekit.detectors.letterbox import Placement, fit_image
from posekit.detectors.onnx_net import onnx_network
from posekit.errors import MissingFileError
from posekit.paths import find_user_file

SEED_WEIGHTS = "detector/yolo/data/yolov3-spp.weights"
SEED_CFG = "detector/yolo/cfg/yolov3-spp.cfg"
INPUT_SIZE = 608
CONF_THRES = 0.1
CONF_THRES_TRACKING = 0.3
NMS_THRES = 0.6
PAD_VALUE = 128


def find_cfg(explicit: str | None = None) -> Path:
    """The darknet cfg: `explicit` (e.g. a config's DETECTOR.CONFIG) if it exists, else
    ./detector/yolo/cfg/yolov3-spp.cfg, else the packaged copy. An explicit path that is missing is an
    error unless it names yolov3-spp.cfg, which posekit ships."""
    packaged = Path(str(resources.files("posekit") / "data" / "yolov3-spp.cfg"))
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file():
            return path
        if path.name != packaged.name:
            raise MissingFileError(f"darknet cfg not found: {path}")
    local = Path.cwd() / SEED_CFG
    return local if local.is_file() else packaged


def build_darknet(cfg: str | None = None) -> DarknetModel:
    """An untrained network from the cfg (see `find_cfg`)."""
    path = find_cfg(cfg)
    return DarknetModel(parse_cfg(path), source=str(path))


class YOLOv3SPPDetector(BatchedYoloDetector):
    """YOLOv3-SPP: letterbox (cubic, pad 128, centred), RGB/255, objectness > conf, person only, NMS.

    Options: `cfg` (darknet cfg path), `inp_dim` (608), `conf_thres` (0.1, or 0.3 with `tracking`),
    `nms_thres` (0.6), `batch_size` (images per forward pass;
    default: all images of one `detect` call, which the pipeline sizes with --detbatch). `weights` may
    also be a file from `posekit export detector` (.onnx), run by onnxruntime at the file's input size.
    `backend` / `precision`: the network's runtime (posekit.runtime; auto = OpenVINO, bf16 on CPUs
    with native bf16).
    """

    def __init__(
        self,
        name: str = "yolo",
        weights: str | None = None,
        device: str = "cpu",
        cfg: str | None = None,
        inp_dim: int = INPUT_SIZE,
        conf_thres: float | None = None,
        nms_thres: float = NMS_THRES,
        batch_size: int | None = None,
        tracking: bool = False,
        backend: str = "auto",
        precision: str = "auto",
    ) -> None:
        path = find_user_file(SEED_WEIGHTS, weights, what="YOLOv3-SPP weights (yolov3-spp.weights)")
        exported = onnx_network(path)
        model: nn.Module
        if exported is not None:  # an exported file fixes the input size
            model, inp_dim = exported, exported.input_size
        else:
            model = darknet = build_darknet(cfg)
            load_darknet_weights(darknet, path)
        if conf_thres is None:
            conf_thres = CONF_THRES_TRACKING if tracking else CONF_THRES
        super().__init__(
            name,
            model,
            device,
            check_input_size(inp_dim, name),
            conf_thres,
            nms_thres,
            batch_size,
            backend,
            precision,
        )

    def preprocess(self, image: np.ndarray) -> tuple[np.ndarray, Placement]:
        canvas, placement = fit_image(image, self.input_size, PAD_VALUE, True, cv2.INTER_CUBIC)
        return np.ascontiguousarray(canvas.transpose(2, 0, 1), dtype=np.float32) / 255.0, placement

    def person_scores(self, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        objectness = pred[:, 4]
        best_class = pred[:, 5:].argmax(dim=1)
        return objectness, objectness, (objectness > self.conf_thres) & (best_class == PERSON_CLASS)
