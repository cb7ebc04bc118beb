"""The heatmap backend of a FastPose checkpoint, built through posekit.runtime (infer, validate, UI)."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from posekit.errors import PosekitError
from posekit.pose.types import HeatmapBackend
from posekit.runtime import build_runner, check_backend_device, resolve_backend
from posekit.runtime.onnx_backend import OnnxBackend


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
    file) or "auto" (posekit.runtime.resolve_backend: onnx for a .onnx file, else the fastest installed).

    For "onnx" the file's input size must match the config's IMAGE_SIZE. `precision` applies on CPU
    (posekit.runtime.precision): "auto" uses bf16 where the CPU supports it natively, else fp32; the
    output conv stays fp32. `compile` adds torch.compile to the torch backend (worth it on long runs).
    """
    kind = resolve_backend(kind, checkpoint, device)
    expected = tuple(int(v) for v in cfg.data_preset.image_size)
    if kind == "onnx" and Path(checkpoint).suffix.lower() == ".onnx":
        backend = OnnxBackend(checkpoint, providers=providers)
        if backend.input_hw != expected:
            raise PosekitError(
                f"{checkpoint}: ONNX input is {backend.input_hw} (H, W) but the config says {expected}"
            )
        return cast(HeatmapBackend, backend)  # a pose network has one output: the heatmaps
    check_backend_device(kind, device)
    from posekit.models.checkpoint import load_pose_network

    model = load_pose_network(cfg, checkpoint, device="cpu" if kind != "torch" else device)
    runner = build_runner(
        model, (1, 3, *expected), kind, precision, device, fp32_output_conv=True, compile=compile
    )
    return cast(HeatmapBackend, runner)  # a pose network has one output: the heatmaps
