"""The ONNX Runtime backend: an .onnx file (or a torch network traced to one) behind the runner interface.

OnnxBackend takes the same float32 NCHW input as the torch backend and returns the same output (FastPose
heatmaps, a detector's raw maps), so pre- and post-processing are shared. A fixed-batch file (the atc
default, batch 1) is run in chunks of its batch size, the last chunk padded.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import numpy as np
from torch import nn

from posekit.errors import MissingFileError, PosekitError
from posekit.runtime.trace import trace_to_onnx

# Tried in this order when the installed onnxruntime offers them; CPU is always last.
PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CANNExecutionProvider", "CPUExecutionProvider")
INSTALL_HINT = "pip install 'posekit[onnx]'"


def choose_providers(available: list[str], requested: list[str] | None = None) -> list[str]:
    """Execution providers to use: the requested ones (all must be available), else CUDA/CANN/CPU."""
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            raise PosekitError(
                f"onnxruntime here has no {', '.join(missing)} (available: {', '.join(available)})"
            )
        return list(requested)
    return [p for p in PREFERRED_PROVIDERS if p in available] or list(available)


def onnxruntime_available() -> bool:
    """True when the onnxruntime package is installed."""
    return importlib.util.find_spec("onnxruntime") is not None


class OnnxBackend:
    """Runner over an ONNX file with a float32 N x 3 x H x W input (`posekit export onnx`/`detector`)."""

    def __init__(self, path: str | Path, providers: list[str] | None = None, threads: int | None = None):
        if not onnxruntime_available():
            raise PosekitError(f"the onnx backend needs onnxruntime: {INSTALL_HINT}")
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise MissingFileError(f"{path}: ONNX model not found (write it with `posekit export onnx`)")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or (os.cpu_count() or 1)
        chosen = choose_providers(ort.get_available_providers(), providers)
        try:
            self.session = ort.InferenceSession(str(path), options, providers=chosen)
        except Exception as exc:  # onnxruntime raises its own exception types for bad files
            raise PosekitError(f"{path}: onnxruntime cannot load it ({str(exc).splitlines()[0]})") from None
        self.path = path
        self.providers = self.session.get_providers()
        inp = self.session.get_inputs()[0]
        if inp.type != "tensor(float)" or len(inp.shape) != 4 or inp.shape[1] != 3:
            raise PosekitError(
                f"{path}: input '{inp.name}' is {inp.type} {inp.shape}; the onnx backend needs float32 "
                "N x 3 x H x W (export without --preprocess)"
            )
        self.input_name = inp.name
        self.output_names = [out.name for out in self.session.get_outputs()]
        self.output_name = self.output_names[0]
        self.fixed_batch = inp.shape[0] if isinstance(inp.shape[0], int) else None
        fixed_hw = all(isinstance(d, int) for d in inp.shape[2:])
        self.input_hw = (int(inp.shape[2]), int(inp.shape[3])) if fixed_hw else None
        self.output_tails = [
            tuple(out.shape[1:]) if all(isinstance(d, int) for d in out.shape[1:]) else None
            for out in self.session.get_outputs()
        ]
        self.output_tail = self.output_tails[0]

    def __call__(self, batch: np.ndarray) -> np.ndarray | tuple[np.ndarray, ...]:
        """float32 (N, 3, H, W) input (e.g. normalised crops) -> float32 output (N, ...), e.g. heatmaps
        (N, K, h, w); a tuple of arrays for a file with several outputs."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if (
            batch.ndim != 4
            or batch.shape[1] != 3
            or (self.input_hw is not None and batch.shape[2:] != self.input_hw)
        ):
            size = "H, W" if self.input_hw is None else f"{self.input_hw[0]}, {self.input_hw[1]}"
            raise PosekitError(f"{self.path}: takes (N, 3, {size}) input, got {batch.shape}")
        step = self.fixed_batch or max(len(batch), 1)
        chunks = []
        for start in range(0, len(batch), step):
            chunk = batch[start : start + step]
            count = len(chunk)
            if count < step:
                pad = np.zeros((step - count, *chunk.shape[1:]), dtype=np.float32)
                chunk = np.concatenate([chunk, pad])
            chunks.append(
                [out[:count] for out in self.session.run(self.output_names, {self.input_name: chunk})]
            )
        if chunks:
            outputs = [np.concatenate(parts) for parts in zip(*chunks)]
        else:
            outputs = [np.zeros((0, *(tail or (0, 0, 0))), dtype=np.float32) for tail in self.output_tails]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def onnx_from_module(
    model: nn.Module,
    sample: np.ndarray,
    threads: int | None = None,
    providers: list[str] | None = None,
    dynamic_hw: bool = False,
) -> OnnxBackend:
    """OnnxBackend over `model` traced on `sample` (opset 13, dynamic batch) in a temporary folder."""
    if not onnxruntime_available():
        raise PosekitError(f"the onnx backend needs onnxruntime: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="posekit-ort-") as tmp:
        path = Path(tmp) / "network.onnx"
        trace_to_onnx(
            model.cpu().float().eval(), sample, path, opset=13, dynamic_batch=True, dynamic_hw=dynamic_hw
        )
        return OnnxBackend(path, providers=providers, threads=threads)
