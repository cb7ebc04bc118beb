"""Export a YOLOv3-SPP or YOLOX person detector's network to ONNX, checked against PyTorch.

The file takes what the detector's own pre-processing makes (float32 B x 3 x S x S: YOLOv3 RGB/255
letterboxed, YOLOX BGR 0-255 padded at the top left) as `input` and gives the decoded predictions
(B x N x (5 + 80): cx, cy, w, h, objectness, class probabilities) as `output`. Give the file to
`--detector NAME --detector_weights FILE.onnx` and onnxruntime runs it with the same pre- and
post-processing (thresholds, person filter, NMS) as the PyTorch network.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from posekit.detectors.batched import BatchedYoloDetector
from posekit.detectors.onnx_net import OnnxDetectorNet
from posekit.errors import PosekitError
from posekit.export.onnx import ExportOptions, ExportReport, check_options, write_onnx
from posekit.io.images import read_image_rgb


def export_detector_onnx(
    detector: BatchedYoloDetector,
    output: str | Path,
    options: ExportOptions | None = None,
    check_image: str | Path | None = None,
) -> ExportReport:
    """Write `detector`'s network (batch norm folded) to `output`; traced and checked on a real photo
    (check_image, else scikit-image's astronaut) put through the detector's pre-processing."""
    options = options or ExportOptions()
    if not isinstance(detector, BatchedYoloDetector):
        raise PosekitError(f"{detector.name}: only the yolo and yolox detectors export to ONNX")
    if options.preprocess:
        raise PosekitError("--preprocess applies to pose models; a detector takes its own pre-processing")
    check_options(options)
    if isinstance(detector.model, OnnxDetectorNet):
        raise PosekitError(f"{detector.name}: already an ONNX network ({detector.model.onnx_path})")
    if check_image is None:
        from posekit.infer.sources import sample_image_path

        check_image = sample_image_path()
    network_input, _ = detector.preprocess(read_image_rgb(check_image))
    batch = 1 if options.dynamic_batch else int(options.batch)
    sample = np.ascontiguousarray(np.repeat(network_input[None], batch, axis=0))
    size = detector.input_size
    shape = ["batch" if options.dynamic_batch else batch, 3, size, size]
    return write_onnx(detector.model.eval().cpu(), sample, output, options, shape, torch.float32)
