"""YOLOX person detectors (nano, tiny, s, m, l, x) on the official `yolox_*.pth` checkpoints."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from posekit.detectors.batched import PERSON_CLASS, BatchedYoloDetector, check_input_size
from posekit.detectors.letterbox import Placement, fit_image
from posekit.detectors.onnx_net import onnx_network
from posekit.detectors.yolox_net import SIZES, YOLOX
from posekit.errors import PosekitError
from posekit.models.checkpoint import read_torch_file
from posekit.paths import find_user_file

# AlphaPose feeds 640 to every size (the nano/tiny experiments were tested at 416; pass inp_dim=416).
INPUT_SIZE = 640
CONF_THRES = 0.1
NMS_THRES = 0.6
PAD_VALUE = 114


def seed_weights_path(name: str) -> str:
    """Where the seed keeps a size's checkpoint: yolox-s -> detector/yolox/data/yolox_s.pth."""
    return f"detector/yolox/data/{name.replace('-', '_')}.pth"


def size_of(name: str) -> str:
    """ "yolox-s" -> "s"; PosekitError for an unknown size."""
    size = name.lower().removeprefix("yolox").lstrip("-_") or "x"
    if size not in SIZES:
        raise PosekitError(f"unknown YOLOX size {name!r}; choose one of: {', '.join(SIZES)}")
    return size


def load_yolox_checkpoint(model: YOLOX, path: str | Path, name: str) -> None:
    """Load an official checkpoint (a dict whose "model" key is the state dict) with strict=True."""
    path = Path(path)
    ckpt = read_torch_file(path, kind="torch checkpoint")
    state = ckpt.get("model", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise PosekitError(f"{path}: expected a dict with a 'model' state dict, got {type(ckpt).__name__}")
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    if missing or unexpected or wrong:
        if wrong:
            key = wrong[0]
            detail = f"{key} has shape {tuple(state[key].shape)}, {name} needs {tuple(expected[key].shape)}"
        elif missing:
            detail = f"{len(missing)} weights missing, first {missing[0]}"
        else:
            detail = f"{len(unexpected)} unexpected weights, first {unexpected[0]}"
        raise PosekitError(f"{path}: does not match {name} ({detail}): is this the {name} checkpoint?")
    model.load_state_dict(state, strict=True)


class YOLOXDetector(BatchedYoloDetector):
    """YOLOX: BGR, top-left padding 114, no normalisation; obj*cls >= conf, person only, NMS.

    Options: `inp_dim` (640), `conf_thres` (0.1), `nms_thres` (0.6), `batch_size` (images per forward
    pass; default: all images of one `detect` call, which the pipeline sizes with --detbatch),
    `tracking` (accepted for a uniform interface; YOLOX keeps its threshold). `weights` may also be a
    file from `posekit export detector` (.onnx), run by onnxruntime at the file's input size.
    As AlphaPose: rows are kept and NMS-ranked by objectness x best class probability, but the box
    score handed on (detection file, proposal score, det-box ranking) is the objectness alone.
    `backend` / `precision`: the network's runtime (posekit.runtime; auto = OpenVINO, bf16 on CPUs
    with native bf16).
    """

    def __init__(
        self,
        name: str = "yolox-x",
        weights: str | None = None,
        device: str = "cpu",
        inp_dim: int = INPUT_SIZE,
        conf_thres: float = CONF_THRES,
        nms_thres: float = NMS_THRES,
        batch_size: int | None = None,
        tracking: bool = False,
        backend: str = "auto",
        precision: str = "auto",
    ) -> None:
        name = f"yolox-{size_of(name)}"
        path = find_user_file(seed_weights_path(name), weights, what=f"{name} weights")
        exported = onnx_network(path)
        model: nn.Module
        if exported is not None:  # an exported file fixes the input size
            model, inp_dim = exported, exported.input_size
        else:
            model = yolox = YOLOX(size_of(name))
            load_yolox_checkpoint(yolox, path, name)
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
        canvas, placement = fit_image(image, self.input_size, PAD_VALUE, False, cv2.INTER_LINEAR)
        bgr_chw = canvas[:, :, ::-1].transpose(2, 0, 1)
        return np.ascontiguousarray(bgr_chw, dtype=np.float32), placement

    def person_scores(self, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        objectness = pred[:, 4]
        class_conf, best_class = pred[:, 5:].max(dim=1)
        ranking = objectness * class_conf
        return ranking, objectness, (ranking >= self.conf_thres) & (best_class == PERSON_CLASS)
