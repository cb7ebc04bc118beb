"""ONNX Runtime heatmap backend, and build_backend(): the one place infer/validate pick a backend by name.

OnnxBackend takes the same float32 NCHW normalised crops as the torch backend and returns the same
heatmaps, so the estimator's crop and decode code is shared. A fixed-batch file (the atc default, batch 1)
is run in chunks of its batch size, the last chunk padded.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from posekit.errors import MissingFileError, PosekitError
from posekit.pose.types import HeatmapBackend

# Tried in this order when the installed onnxruntime offers them; CPU is always last.
PREFERRED_PROVIDERS = ("CUDAExecutionProvider", "CANNExecutionProvider", "CPUExecutionProvider")
BACKENDS = ("auto", "torch", "onnx", "openvino")


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


class OnnxBackend:
    """HeatmapBackend over an ONNX file from `posekit export onnx` (float32 NCHW input)."""

    def __init__(self, path: str | Path, providers: list[str] | None = None, threads: int | None = None):
        if importlib.util.find_spec("onnxruntime") is None:
            raise PosekitError("the onnx backend needs onnxruntime: pip install 'posekit[onnx]'")
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
                f"{path}: input '{inp.name}' is {inp.type} {inp.shape}; the pose backend needs float32 "
                "N x 3 x H x W (export without --preprocess)"
            )
        self.input_name = inp.name
        self.output_name = self.session.get_outputs()[0].name
        self.fixed_batch = inp.shape[0] if isinstance(inp.shape[0], int) else None
        self.input_hw = (int(inp.shape[2]), int(inp.shape[3]))
        out_shape = self.session.get_outputs()[0].shape
        self.output_tail = tuple(out_shape[1:]) if all(isinstance(d, int) for d in out_shape[1:]) else None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """float32 (N, 3, H, W) normalised crops -> float32 heatmaps (N, K, h, w)."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if batch.shape[1:] != (3, *self.input_hw):
            raise PosekitError(
                f"{self.path}: takes (N, 3, {self.input_hw[0]}, {self.input_hw[1]}) crops, got {batch.shape}"
            )
        step = self.fixed_batch or max(len(batch), 1)
        outputs = []
        for start in range(0, len(batch), step):
            chunk = batch[start : start + step]
            count = len(chunk)
            if count < step:
                pad = np.zeros((step - count, *chunk.shape[1:]), dtype=np.float32)
                chunk = np.concatenate([chunk, pad])
            outputs.append(self.session.run([self.output_name], {self.input_name: chunk})[0][:count])
        if not outputs:
            return np.zeros((0, *(self.output_tail or (0, 0, 0))), dtype=np.float32)
        return np.concatenate(outputs)


def resolve_backend(kind: str, checkpoint: str | Path, device: str = "cpu") -> str:
    """ "auto" -> "onnx" for a .onnx file, else "openvino" on the CPU when it is installed, else "torch"."""
    if kind not in BACKENDS:
        raise PosekitError(f"unknown backend {kind!r}: choose one of {', '.join(BACKENDS)}")
    if kind != "auto":
        return kind
    if Path(checkpoint).suffix.lower() == ".onnx":
        return "onnx"
    from posekit.pose.backends_openvino import openvino_available

    return "openvino" if str(device).startswith("cpu") and openvino_available() else "torch"


def build_backend(
    kind: str,
    cfg,
    checkpoint: str | Path,
    device: str = "cpu",
    precision: str = "auto",
    providers: list[str] | None = None,
    compile: bool = False,
) -> HeatmapBackend:
    """A heatmap backend by name: "torch" or "openvino" (a .pth checkpoint), "onnx" (an exported .onnx
    file) or "auto" (see resolve_backend: the fastest one installed for this file and device).

    For "onnx" the file's input size must match the config's IMAGE_SIZE. `precision` applies on CPU
    (see posekit.pose.precision): "auto" uses bf16 where the CPU supports it natively, else fp32;
    `compile` adds torch.compile to the torch backend (worth it on long runs only).
    """
    kind = resolve_backend(kind, checkpoint, device)
    if kind == "onnx":
        backend = OnnxBackend(checkpoint, providers=providers)
        expected = tuple(int(v) for v in cfg.data_preset.image_size)
        if backend.input_hw != expected:
            raise PosekitError(
                f"{checkpoint}: ONNX input is {backend.input_hw} (H, W) but the config says {expected}"
            )
        return backend
    from posekit.models.checkpoint import load_fastpose_network

    if kind == "openvino":
        from posekit.pose.backends_openvino import OpenVinoBackend

        if not str(device).startswith("cpu"):
            raise PosekitError(f"the openvino backend runs on the CPU, not {device}: use --backend torch")
        model = load_fastpose_network(cfg, checkpoint, device="cpu")
        return OpenVinoBackend(model, tuple(cfg.data_preset.image_size), precision=precision)
    from posekit.pose.backends import TorchBackend
    from posekit.pose.precision import optimize_for_inference

    model = load_fastpose_network(cfg, checkpoint, device=device)
    fast = optimize_for_inference(model, device=device, precision=precision, compile=compile)
    return TorchBackend(fast, device=device)
