"""Flags choosing how the pose network runs, for `infer` and `validate` (defined once, here).

Use: add_backend_flags(parser), then TopDownEstimator.from_checkpoint(cfg, args.checkpoint, device,
backend=args.backend, precision=args.precision, compile=args.compile).
"""

from __future__ import annotations

import argparse

from posekit.pose.backends_onnx import BACKENDS


def add_backend_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--backend auto|torch|onnx|openvino (onnx: --checkpoint is the .onnx file), --precision, --compile."""
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="pose network runtime: auto (onnx for a .onnx checkpoint, else openvino on CPU when "
        "installed, else torch), torch, openvino (.pth checkpoint) or onnx (an exported .onnx)",
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default="auto",
        help="on CPU: auto = bf16 where the CPU has native bf16 (AMX/AVX512-BF16), else fp32",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="torch backend: torch.compile the network (faster after a 10-25 s compile; long runs)",
    )
