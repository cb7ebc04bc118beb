"""Flags choosing how the pose network runs, for `infer` and `validate` (defined once, here).

Use: add_backend_flags(parser), then
posekit.pose.backends_onnx.build_backend(args.backend, cfg, args.checkpoint, device, args.precision,
compile=args.compile).
"""

from __future__ import annotations

import argparse


def add_backend_flags(parser: argparse.ArgumentParser) -> None:
    """--backend torch|onnx (onnx: --checkpoint is the .onnx file), --precision auto|fp32|bf16, --compile."""
    parser.add_argument(
        "--backend",
        choices=["torch", "onnx"],
        default="torch",
        help="pose network runtime: torch (.pth checkpoint) or onnx (an exported .onnx as --checkpoint)",
    )
    parser.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        default="auto",
        help="torch on CPU: auto = bf16 where the CPU has native bf16 (AMX/AVX512-BF16), else fp32",
    )
    parser.add_argument(
        "--compile",
        action="store_true",
        help="torch: torch.compile the network (about 1.5x faster after a 10-25 s compile; long runs)",
    )
