"""`posekit export onnx|detector|om`: ONNX export of the pose model and of the YOLO detectors, and the
Ascend atc/AIPP files."""

from __future__ import annotations

import argparse

from posekit.choices import PREPROCESS_LAYOUTS
from posekit.export import DEFAULT_SOC_VERSION


def add_onnx_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of `posekit export onnx`, shared with the seed shim pthtar2onnx.py."""
    parser.add_argument("--cfg", required=True, help="AlphaPose-style YAML config (IMAGE_SIZE sets H, W)")
    parser.add_argument(
        "--checkpoint", "--input_pth", "--input-pth", dest="checkpoint", required=True, help="model .pth"
    )
    parser.add_argument(
        "--output", "--output_onnx", "--output-onnx", dest="output", required=True, help="ONNX file to write"
    )
    _add_graph_flags(parser)
    parser.add_argument(
        "--preprocess",
        nargs="?",
        const="nhwc",
        choices=PREPROCESS_LAYOUTS,
        default=None,
        help="take uint8 RGB crops (NHWC by default) and normalise inside the graph",
    )
    parser.add_argument("--simplify", action="store_true", help="run onnxsim on the exported graph")


def _add_graph_flags(parser: argparse.ArgumentParser) -> None:
    """--batch | --dynamic-batch, --opset and --check-image, shared by both ONNX exports."""
    batch = parser.add_mutually_exclusive_group()
    batch.add_argument("--batch", type=int, default=1, help="fixed batch size of the input (default 1)")
    batch.add_argument(
        "--dynamic-batch",
        "--dynamic_batch",
        dest="dynamic_batch",
        action="store_true",
        help="batch axis free",
    )
    parser.add_argument("--opset", type=int, default=11, help="ONNX opset (>= 11, default 11)")
    parser.add_argument(
        "--check-image", "--check_image", dest="check_image", default=None, help="image for the PyTorch check"
    )


def add_detector_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of `posekit export detector`."""
    from posekit.cli.common import add_detector_weights

    parser.add_argument(
        "--detector", required=True, help="yolo, yolox-nano|tiny|s|m|l|x, yolo11n-pose or a YOLO-pose .pt"
    )
    parser.add_argument(
        "--soc-version",
        "--soc_version",
        dest="soc_version",
        default=DEFAULT_SOC_VERSION,
        help="Ascend SoC (YOLO-pose plan)",
    )
    add_detector_weights(parser)
    parser.add_argument("--output", required=True, help="ONNX file to write")
    parser.add_argument(
        "--inp_dim", "--inp-dim", dest="inp_dim", type=int, default=None, help="input size (608 / 640)"
    )
    _add_graph_flags(parser)


def add_om_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of `posekit export om`."""
    parser.add_argument("--onnx", "--model", dest="onnx", required=True, help="ONNX file from `export onnx`")
    parser.add_argument("--cfg", default=None, help="config: input H, W from IMAGE_SIZE (else from the ONNX)")
    parser.add_argument(
        "--output", default=None, help="OM path without .om (default: <onnx stem>_aipp_rgb beside the ONNX)"
    )
    parser.add_argument("--batch", type=int, default=None, help="batch for a dynamic-batch ONNX (default 1)")
    parser.add_argument(
        "--soc-version", "--soc_version", dest="soc_version", default=DEFAULT_SOC_VERSION, help="Ascend SoC"
    )
    parser.add_argument(
        "--no-aipp", dest="aipp", action="store_false", help="no AIPP: the OM takes normalised float input"
    )


def register(subparsers) -> None:
    """Add `export onnx` and `export om`."""
    parser = subparsers.add_parser("export", help="export the pose model or a detector to ONNX / Ascend OM")
    kinds = parser.add_subparsers(dest="export_kind", metavar="KIND")
    onnx_parser = kinds.add_parser("onnx", help="export the pose model to ONNX")
    add_onnx_flags(onnx_parser)
    onnx_parser.set_defaults(run=run_onnx)
    detector_parser = kinds.add_parser("detector", help="export a YOLOv3-SPP / YOLOX detector to ONNX")
    add_detector_flags(detector_parser)
    detector_parser.set_defaults(run=run_detector)
    om_parser = kinds.add_parser("om", help="write the atc command and AIPP config; run atc if present")
    add_om_flags(om_parser)
    om_parser.set_defaults(run=run_om)
    parser.set_defaults(run=lambda args: parser.print_help() or 2)


def run_onnx(args: argparse.Namespace) -> int:
    """Load config and checkpoint (mismatches fail here, before any file), export, check, report."""
    from posekit.export.jobs import export_checkpoint
    from posekit.export.onnx import ExportOptions
    from posekit.export.sample import describe_source

    options = ExportOptions(
        batch=args.batch,
        dynamic_batch=args.dynamic_batch,
        opset=args.opset,
        preprocess=args.preprocess,
        simplify=args.simplify,
    )
    print(f"Loading model from {args.checkpoint}...")
    report = export_checkpoint(args.cfg, args.checkpoint, args.output, options, args.check_image)
    print(f"Wrote {report.path}: input '{report.input_dtype}{report.input_shape}', output 'output'")
    if report.max_abs_diff is None:
        print("onnxruntime is not installed: skipped the comparison with PyTorch")
    else:
        source = describe_source(args.check_image)
        print(f"max abs difference from PyTorch on a crop of {source}: {report.max_abs_diff:.3g}")
    return 0


def run_detector(args: argparse.Namespace) -> int:
    """Build the detector from its weights (missing or wrong files fail here), export, check, report."""
    from posekit.detectors import build_detector, canonical_detector_name
    from posekit.export.detector import export_detector_onnx, yolo_pose_atc_plan
    from posekit.export.onnx import ExportOptions
    from posekit.families.yolo_pose.detector import YoloPoseDetector
    from posekit.paths import check_apart

    name = canonical_detector_name(args.detector)
    inputs = [p for p in (args.detector_weights, args.check_image) if p]
    check_apart(inputs, files=[args.output])
    size = {"inp_dim": args.inp_dim} if args.inp_dim else {}
    print(f"Loading {name} detector..")
    detector = build_detector(name, weights=args.detector_weights, device="cpu", **size)
    options = ExportOptions(batch=args.batch, dynamic_batch=args.dynamic_batch, opset=args.opset)
    report = export_detector_onnx(detector, args.output, options, args.check_image)
    print(f"Wrote {report.path}: input 'float32{report.input_shape}', output 'output' (decoded boxes)")
    if report.max_abs_diff is not None:
        print(f"max abs difference from PyTorch: {report.max_abs_diff:.3g}")
    if isinstance(detector, YoloPoseDetector):
        plan = yolo_pose_atc_plan(report, 1 if args.dynamic_batch else args.batch, args.soc_version)
        print(f"Wrote AIPP config {plan.aipp_path} (letterboxed uint8 RGB in, rgb/255 done on the device)")
        print(f"Wrote {plan.script_path}; on a machine with the CANN toolkit run:")
        print(plan.command)
        return 0
    print(f"run it with: --detector {name} --detector_weights {report.path}")
    return 0


def run_om(args: argparse.Namespace) -> int:
    """Write the AIPP config and atc script; run atc when on PATH, else print the command."""
    from posekit.export.ascend import run_atc
    from posekit.export.jobs import plan_om

    plan = plan_om(args.onnx, args.cfg, args.output, args.batch, args.soc_version, aipp=args.aipp)
    if plan.aipp_path:
        print(f"Wrote AIPP config {plan.aipp_path} (uint8 RGB in, rgb/255 - mean done on the device)")
    print(f"Wrote {plan.script_path}")
    if run_atc(plan):
        print(f"atc wrote {plan.om_path}")
    else:
        print("atc is not on PATH. On a machine with the CANN toolkit run:")
        print(plan.command)
    return 0
