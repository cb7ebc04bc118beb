"""`posekit train`: train FastPose on COCO keypoints (the seed's scripts/train.py is a shim over it)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from posekit.cli.common import add_subpixel, check_device, flag
from posekit.errors import PosekitError


def add_train_flags(parser: argparse.ArgumentParser) -> None:
    """The seed's training flags and AlphaPose's other train.py flags."""
    parser.add_argument("--cfg", required=True, help="training config (AlphaPose YAML)")
    flag(parser, "batch_size", type=int, default=None, help="images per step (overrides TRAIN.BATCH_SIZE)")
    flag(parser, "end_epoch", type=int, default=None, help="number of epochs (overrides TRAIN.END_EPOCH)")
    parser.add_argument("--pretrained", default="", help="resume: load this checkpoint strictly")
    flag(parser, "try_load", default="", help="transfer: load the tensors whose name and shape match")
    parser.add_argument("--imagenet", default="", help="torchvision ImageNet ResNet file for the backbone")
    flag(parser, "exp_id", default="default", help="experiment name: work dir exp/{exp_id}-{cfg name}/")
    parser.add_argument(
        "--snapshot", type=int, default=2, help="save model_N.pth and validate every N epochs"
    )
    parser.add_argument(
        "--nThreads", type=int, default=min(4, os.cpu_count() or 1), help="data loader worker processes"
    )
    parser.add_argument("--sync", action="store_true", help="SyncBatchNorm across processes (torchrun)")
    parser.add_argument(
        "--amp", action="store_true", help="mixed precision: fp16 on GPU, bf16 on CPUs with native bf16"
    )
    parser.add_argument("--device", default=None, help="torch device; default GPU if any, else CPU")
    flag(parser, "dist_backend", default=None, help="nccl or gloo (default: nccl on GPU, gloo on CPU)")
    flag(parser, "seed", type=int, default=0, help="random seed (shuffling and augmentation)")
    flag(parser, "work_root", default="exp", help="folder holding experiment work dirs")
    parser.add_argument("--no-map", dest="map", action="store_false", help="skip validation mAP")
    parser.add_argument("--map", dest="map", action="store_true", default=True, help=argparse.SUPPRESS)
    add_subpixel(parser)
    # Accepted for AlphaPose compatibility; torchrun's environment decides rank and world size.
    # --detector names the detector that makes DATASET.TEST.DET_FILE when it is missing.
    for name in ("rank", "dist_url", "launcher", "detector", "gpus"):
        flag(parser, name, default=None, help=argparse.SUPPRESS)
    for name in ("board", "debug"):  # AlphaPose's on/off switches (TensorBoard, debug mode)
        parser.add_argument(f"--{name}", action="store_true", help=argparse.SUPPRESS)


def register(subparsers) -> None:
    """Add the `train` subcommand."""
    parser = subparsers.add_parser("train", help="train a FastPose model (resume, transfer, torchrun DDP)")
    add_train_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print the arguments like AlphaPose, then train."""
    from posekit.config import load_config
    from posekit.train.loop import TrainOptions, train

    check_train_flags(args)
    overrides = {}
    if args.batch_size is not None:
        overrides["TRAIN.BATCH_SIZE"] = args.batch_size
    if args.end_epoch is not None:
        overrides["TRAIN.END_EPOCH"] = args.end_epoch
    cfg = load_config(args.cfg, overrides)
    opts = TrainOptions(
        cfg=cfg,
        exp_id=args.exp_id,
        snapshot=args.snapshot,
        num_workers=args.nThreads,
        pretrained=args.pretrained,
        try_load=args.try_load,
        imagenet=args.imagenet,
        amp=args.amp,
        sync_bn=args.sync,
        device=args.device,
        dist_backend=args.dist_backend,
        work_root=args.work_root,
        validate=args.map,
        subpixel=args.subpixel,
        seed=args.seed,
        detector=args.detector,
    )
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if int(os.environ.get("RANK", "0")) == 0:
        shown = {k: v for k, v in vars(args).items() if k != "run"}
        print(argparse.Namespace(**shown, work_dir=f"{opts.work_dir}/", world_size=world_size))
    summary = train(opts)
    print(f"Training {'stopped' if summary.stopped else 'finished'}: {summary.work_dir}")
    return 0


def check_train_flags(args: argparse.Namespace) -> None:
    """One-line PosekitError naming the flag and its allowed range for a value training cannot use."""
    from posekit.io.atomic import check_writable_folder

    for name, value, low in (
        ("--batch_size", args.batch_size, 1),
        ("--end_epoch", args.end_epoch, 0),
        ("--snapshot", args.snapshot, 1),
        ("--nThreads", args.nThreads, 0),
    ):
        if value is not None and value < low:
            raise PosekitError(f"{name} must be an integer >= {low}, got {value}")
    if args.device:
        check_device(args.device, "--device")
    check_writable_folder(Path(args.work_root), "--work_root folder")
