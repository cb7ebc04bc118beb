"""Export a YOLOv3-SPP, YOLOX or YOLO-pose person detector's network to ONNX, checked against PyTorch.

The file takes what the detector's own pre-processing makes (float32 B x 3 x S x S: YOLOv3 RGB/255
letterboxed, YOLOX BGR 0-255 padded at the top left) as `input` and gives the decoded predictions
(B x N x (5 + 80): cx, cy, w, h, objectness, class probabilities) as `output`. Give the file to
`--detector NAME --detector_weights FILE.onnx` and onnxruntime runs it with the same pre- and
post-processing (thresholds, person filter, NMS) as the PyTorch network.

A YOLO-pose file takes the full size x size letterbox (RGB / 255) and gives the decoded head output
(B x (4 + nc + K*D) x anchors); its Ascend plan (`yolo_pose_atc_plan`) has AIPP do the / 255 on
letterboxed uint8 RGB images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from posekit.detectors.base import Detector
from posekit.detectors.batched import BatchedYoloDetector
from posekit.detectors.onnx_net import OnnxDetectorNet
from posekit.errors import PosekitError
from posekit.export import DEFAULT_SOC_VERSION
from posekit.export.ascend import AtcPlan, write_atc_files
from posekit.export.onnx import ExportOptions, ExportReport, check_options, write_onnx
from posekit.families.yolo_pose.detector import YoloPoseDetector
from posekit.families.yolo_pose.preprocess import preprocess
from posekit.io.images import read_image_rgb
from posekit.runtime.trace import INPUT_NAME


def export_detector_onnx(
    detector: Detector,
    output: str | Path,
    options: ExportOptions | None = None,
    check_image: str | Path | None = None,
) -> ExportReport:
    """Write `detector`'s network (batch norm folded) to `output`; traced and checked on a real photo
    (check_image, else scikit-image's astronaut) put through the detector's pre-processing. Detectors
    other than the YOLOv3/YOLOX and YOLO-pose ones are refused."""
    options = options or ExportOptions()
    if not isinstance(detector, BatchedYoloDetector | YoloPoseDetector):
        raise PosekitError(
            f"{detector.name}: only the yolo and yolox detectors export to ONNX (and YOLO-pose .pt detectors)"
        )
    if options.preprocess:
        raise PosekitError("--preprocess applies to pose models; a detector takes its own pre-processing")
    check_options(options)
    model = getattr(detector, "model", None)
    if isinstance(model, OnnxDetectorNet):
        raise PosekitError(f"{detector.name}: already an ONNX network ({model.onnx_path})")
    if check_image is None:
        from posekit.io.images import sample_image_path

        check_image = sample_image_path()
    image = read_image_rgb(check_image)
    network: torch.nn.Module
    if isinstance(detector, YoloPoseDetector):  # a fixed-size file takes the full square letterbox
        network_input, network = (
            preprocess([image], detector.input_size, detector.stride, auto=False)[0][0],
            detector.network,
        )
    else:
        network_input, network = detector.preprocess(image)[0], detector.model
    batch = 1 if options.dynamic_batch else int(options.batch)
    sample = np.ascontiguousarray(np.repeat(network_input[None], batch, axis=0))
    size = detector.input_size
    shape = ["batch" if options.dynamic_batch else batch, 3, size, size]
    return write_onnx(network.eval().cpu(), sample, output, options, shape, torch.float32)


def yolo_pose_atc_plan(
    report: ExportReport, batch: int = 1, soc_version: str = DEFAULT_SOC_VERSION
) -> AtcPlan:
    """The Ascend plan of an exported YOLO-pose file: AIPP turning letterboxed uint8 RGB images into
    rgb / 255 (no mean), and the atc command (`<onnx stem>_aipp_rgb.om`)."""
    height, width = (int(v) for v in report.input_shape[2:])
    stem = report.path.with_name(f"{report.path.stem}_aipp_rgb")
    return write_atc_files(
        report.path, stem, (height, width), batch, soc_version, True, INPUT_NAME, (0.0, 0.0, 0.0)
    )
