"""`posekit validate`: gt-box and det-box COCO mAP of a checkpoint (the seed's scripts/validate.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from posekit.cli.backend import add_backend_flags, detector_backend
from posekit.cli.common import add_cfg_checkpoint, add_detector_weights, add_device, add_subpixel, flag

JSON_DIR = Path("exp/json")


def add_validate_flags(parser: argparse.ArgumentParser) -> None:
    """AlphaPose's validate.py flags plus --backend/--precision."""
    add_cfg_checkpoint(parser, required=True)
    add_device(parser)
    parser.add_argument("--batch", type=int, default=32, help="crops per network call")
    flag(parser, "flip_test", action="store_true", help="average with the mirrored crops' heatmaps")
    add_subpixel(parser)
    parser.add_argument("--detector", default=None, help="detector that creates DET_FILE when it is missing")
    add_detector_weights(parser)
    flag(parser, "oks_nms", action="store_true", help="OKS pose NMS on det-box results")
    flag(parser, "ppose_nms", action="store_true", help="parametric pose NMS on det-box results")
    add_backend_flags(parser)
    flag(parser, "num_workers", type=int, default=0, help=argparse.SUPPRESS)


def register(subparsers) -> None:
    """Add the `validate` subcommand."""
    parser = subparsers.add_parser("validate", help="gt-box and det-box mAP of a checkpoint")
    add_validate_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Validate as AlphaPose does and print `##### gt box: X mAP | det box: Y mAP #####`."""
    from posekit.cli.common import device_from_args
    from posekit.config import load_config
    from posekit.evaluate.validate import validate_det_boxes, validate_gt_boxes
    from posekit.infer.models import resolve_device
    from posekit.pose.estimator import TopDownEstimator

    device = resolve_device(device_from_args(args))
    cfg = load_config(args.cfg)
    print(f"Loading model from {args.checkpoint}...")
    estimator = TopDownEstimator.from_checkpoint(
        cfg,
        args.checkpoint,
        device=device,
        backend=args.backend,
        precision=args.precision,
        compile=args.compile,
        flip=args.flip_test,
        batch_size=args.batch,
        subpixel=args.subpixel,
    )
    nms = "oks" if args.oks_nms else ("parametric" if args.ppose_nms else None)
    gt_map = validate_gt_boxes(estimator, cfg, JSON_DIR / "validate_gt_kpt.json")
    print(f"gt box: {gt_map:.4f} mAP ({JSON_DIR / 'validate_gt_kpt.json'})")
    det_map = validate_det_boxes(
        estimator,
        cfg,
        JSON_DIR / "validate_rcnn_kpt.json",
        detector=args.detector,
        nms=nms,
        device=device,
        detector_weights=args.detector_weights,
        detector_options={"backend": detector_backend(args), "precision": args.precision},
    )
    print(f"##### gt box: {gt_map:.4f} mAP | det box: {det_map:.4f} mAP #####")
    return 0
