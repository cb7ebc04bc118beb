"""Flags choosing how the networks run, for `infer` and `validate` (defined once, here).

Use: add_backend_flags(parser), then TopDownEstimator.from_checkpoint(cfg, args.checkpoint, device,
backend=args.backend, precision=args.precision, compile=args.compile) and build_detector(...,
backend=detector_backend(args), precision=args.precision).
"""

from __future__ import annotations

import argparse

from posekit.choices import BACKEND_CHOICES, PRECISIONS


def add_backend_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--backend auto|torch|onnx|openvino (pose network), --det_backend (detector network; default: as
    --backend), --precision, --compile."""
    parser.add_argument(
        "--backend",
        choices=BACKEND_CHOICES,
        default="auto",
        help="runtime of the pose network and, unless --det_backend says otherwise, of the YOLOX / "
        "YOLOv3 detector network: auto (onnx for a .onnx file, else openvino on CPU when installed, "
        "else torch), torch, openvino, or onnx (onnxruntime: an exported .onnx, or a .pth traced)",
    )
    parser.add_argument(
        "--det_backend",
        choices=BACKEND_CHOICES,
        default=None,
        help="runtime of the YOLOX / YOLOv3 detector network when it should differ from --backend "
        "(e.g. --backend onnx for an exported pose file with the detector on auto)",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="on CPU, for every network: auto = bf16 where the CPU has native bf16 (AMX/AVX512-BF16) "
        "on torch and openvino, else fp32; onnxruntime is fp32",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="torch backend: torch.compile the pose network (faster after a 10-25 s compile; long runs)",
    )


def detector_backend(args: argparse.Namespace) -> str:
    """The detector network's backend: --det_backend when given, else --backend."""
    return args.det_backend or args.backend
