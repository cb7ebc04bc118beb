"""One backend layer for every network: torch, onnxruntime, openvino (bf16 where native), chosen by name
or "auto"; tracing to ONNX lives here (posekit.runtime.trace).

    runner = build_runner(module, (1, 3, 640, 640), backend="auto", precision="auto")
    output = runner(batch)  # float32 NCHW numpy -> float32 numpy (a tuple for a tuple-returning network)
"""

from posekit.runtime.build import (
    BACKEND_CHOICES,
    BACKENDS,
    Runner,
    build_runner,
    resolve_backend,
)
from posekit.runtime.devices import check_backend_device, on_cpu
from posekit.runtime.precision import PRECISIONS, cpu_has_native_bf16, resolve_precision

__all__ = [
    "BACKENDS",
    "BACKEND_CHOICES",
    "PRECISIONS",
    "Runner",
    "build_runner",
    "check_backend_device",
    "cpu_has_native_bf16",
    "on_cpu",
    "resolve_backend",
    "resolve_precision",
]
