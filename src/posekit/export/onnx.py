"""Export a pose network to ONNX, check the file, and measure it against PyTorch on a real crop.

The default file is what the seed's atc command expects: one input `input`, float32 NCHW 1x3xHxW already
normalised (RGB/255 - mean), one output `output` with the heatmaps. `preprocess` instead bakes the
normalisation into the graph so uint8 RGB crops (NHWC or NCHW) go straight in.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from posekit.errors import PosekitError
from posekit.export.sample import sample_crops
from posekit.geometry import PIXEL_MEAN_RGB, normalize_crops
from posekit.io.atomic import atomic_path
from posekit.runtime.trace import INPUT_NAME, OUTPUT_NAME, trace_to_onnx

DEFAULT_OPSET = 11  # PixelShuffle -> DepthToSpace(mode=CRD) needs opset >= 11
PREPROCESS_LAYOUTS = ("nhwc", "nchw")


@dataclass(frozen=True)
class ExportOptions:
    """How to export: fixed batch or dynamic, opset, uint8 pre-processing layout, onnxsim."""

    batch: int = 1
    dynamic_batch: bool = False
    opset: int = DEFAULT_OPSET
    preprocess: str | None = None
    simplify: bool = False


@dataclass(frozen=True)
class ExportReport:
    """What was written and how close it is to PyTorch (max_abs_diff is None without onnxruntime)."""

    path: Path
    input_shape: list
    input_dtype: str
    max_abs_diff: float | None
    simplified: bool


class Uint8Preprocess(nn.Module):
    """uint8 RGB crops -> model(rgb / 255 - mean): the same normalisation as posekit.geometry."""

    mean: torch.Tensor  # a buffer

    def __init__(self, model: nn.Module, layout: str = "nhwc") -> None:
        super().__init__()
        if layout not in PREPROCESS_LAYOUTS:
            raise PosekitError(f"--preprocess must be one of {PREPROCESS_LAYOUTS}, got {layout!r}")
        self.model = model
        self.layout = layout
        self.register_buffer("mean", torch.from_numpy(PIXEL_MEAN_RGB.copy()).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.to(torch.float32)
        if self.layout == "nhwc":
            x = x.permute(0, 3, 1, 2)
        return self.model(x / 255.0 - self.mean)


def check_options(options: ExportOptions) -> None:
    """Reject bad options before any work (and before any file is written)."""
    if options.batch < 1:
        raise PosekitError(f"--batch must be >= 1, got {options.batch}")
    if options.opset < DEFAULT_OPSET:
        raise PosekitError(f"--opset must be >= {DEFAULT_OPSET} (PixelShuffle needs DepthToSpace CRD)")
    if options.preprocess is not None and options.preprocess not in PREPROCESS_LAYOUTS:
        raise PosekitError(f"--preprocess must be one of {PREPROCESS_LAYOUTS}, got {options.preprocess!r}")
    if options.simplify and importlib.util.find_spec("onnxsim") is None:
        raise PosekitError("--simplify needs onnxsim, which is not installed: pip install onnxsim")
    if importlib.util.find_spec("onnx") is None:
        raise PosekitError("ONNX export needs the onnx package: pip install 'posekit[onnx]'")


def input_spec(input_hw: tuple[int, int], options: ExportOptions) -> tuple[list, torch.dtype]:
    """The exported input's shape (batch may be the string "batch") and dtype."""
    height, width = (int(v) for v in input_hw)
    batch = "batch" if options.dynamic_batch else int(options.batch)
    if options.preprocess == "nhwc":
        return [batch, height, width, 3], torch.uint8
    if options.preprocess == "nchw":
        return [batch, 3, height, width], torch.uint8
    return [batch, 3, height, width], torch.float32


def example_input(crops: np.ndarray, options: ExportOptions) -> np.ndarray:
    """uint8 NHWC crops -> the array the exported graph takes."""
    if options.preprocess == "nhwc":
        return np.ascontiguousarray(crops)
    if options.preprocess == "nchw":
        return np.ascontiguousarray(crops.transpose(0, 3, 1, 2))
    return normalize_crops(crops)


def export_onnx(
    model: nn.Module,
    output: str | Path,
    input_hw: tuple[int, int],
    options: ExportOptions | None = None,
    check_image: str | Path | None = None,
) -> ExportReport:
    """Export `model` (N,3,H,W)->(N,K,h,w) to `output` atomically; check it and compare with PyTorch."""
    options = options or ExportOptions()
    check_options(options)
    model = model.eval().cpu()
    net = Uint8Preprocess(model, options.preprocess).eval() if options.preprocess else model
    shape, dtype = input_spec(input_hw, options)
    trace_batch = 1 if options.dynamic_batch else int(options.batch)
    sample = example_input(sample_crops(input_hw, trace_batch, check_image), options)
    return write_onnx(net, sample, output, options, shape, dtype)


def write_onnx(
    net: nn.Module, sample: np.ndarray, output: str | Path, options: ExportOptions, shape: list, dtype
) -> ExportReport:
    """Trace `net` on `sample` into `output` atomically (input `input`, output `output`, the batch axis
    free with options.dynamic_batch), run onnx.checker, and compare onnxruntime with PyTorch on it."""
    output = Path(output)
    with torch.no_grad():
        expected = net(torch.from_numpy(sample)).numpy()
    with atomic_path(output) as tmp:
        trace_to_onnx(net, sample, tmp, options.opset, options.dynamic_batch)
        if options.simplify:
            _simplify(tmp)
        _check(tmp)
        diff = _max_abs_diff(tmp, sample, expected)
    return ExportReport(
        path=output,
        input_shape=shape,
        input_dtype=str(dtype).replace("torch.", ""),
        max_abs_diff=diff,
        simplified=options.simplify,
    )


def _simplify(path: Path) -> None:
    import onnx
    import onnxsim

    simplified, ok = onnxsim.simplify(onnx.load(str(path)))
    if not ok:
        raise PosekitError(f"{path}: onnxsim could not validate the simplified model")
    onnx.save(simplified, str(path))


def _check(path: Path) -> None:
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as exc:
        raise PosekitError(f"exported model fails onnx.checker: {str(exc).splitlines()[0]}") from None


def _max_abs_diff(path: Path, sample: np.ndarray, expected: np.ndarray) -> float | None:
    if importlib.util.find_spec("onnxruntime") is None:
        return None
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run([OUTPUT_NAME], {INPUT_NAME: sample})[0]
    return float(np.abs(got - expected).max())
