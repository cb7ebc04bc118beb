"""Flags shared by several subcommands and the seed scripts, defined once."""

from __future__ import annotations

import argparse

from posekit.errors import PosekitError


def add_cfg_checkpoint(parser: argparse.ArgumentParser, required: bool) -> None:
    """--cfg (AlphaPose YAML) and --checkpoint (pose model weights)."""
    parser.add_argument("--cfg", required=required, help="AlphaPose-style YAML config")
    parser.add_argument("--checkpoint", required=required, help="pose model checkpoint (.pth)")


def add_device(parser: argparse.ArgumentParser) -> None:
    """--gpus as in AlphaPose ("0,1"; "-1" = CPU) and --device (cpu, cuda, cuda:1)."""
    parser.add_argument(
        "--gpus", default=None, help='GPU ids as in AlphaPose, e.g. "0" or "0,1"; "-1" for CPU'
    )
    parser.add_argument(
        "--device", default=None, help="torch device (cpu, cuda, cuda:1); default: GPU if any"
    )


def add_detector_weights(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--detector_weights: the detector weight file, instead of the seed path and the models folder."""
    flag(
        parser,
        "detector_weights",
        default=None,
        help="detector weight file (default: ./detector/<name>/data/<file>, then the posekit models folder)",
    )


def add_subpixel(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--subpixel: sub-pixel (DARK-style) heatmap decoding instead of AlphaPose's quarter-pixel offset
    (--refine, its former name, still works and is not listed)."""
    parser.add_argument(
        "--subpixel",
        action="store_true",
        help="sub-pixel (DARK-style) heatmap decoding instead of the quarter offset",
    )
    parser.add_argument("--refine", dest="subpixel", action="store_true", help=argparse.SUPPRESS)


def device_from_args(args: argparse.Namespace) -> str:
    """The device --device / --gpus name: --device as given; --gpus "-1" the CPU, --gpus "N,..." GPU N
    (the CPU on a machine without one); neither: "auto", which posekit.infer.models.resolve_device
    turns into the first GPU or the CPU when the models load."""
    if getattr(args, "device", None):
        return args.device
    gpus = getattr(args, "gpus", None)
    if gpus is None:
        return "auto"
    from posekit.infer.models import resolve_device

    first = str(gpus).split(",")[0].strip()
    return "cpu" if first == "-1" or resolve_device("auto") == "cpu" else f"cuda:{first}"


def flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup, name: str, **kwargs) -> None:
    """Add --name_with_underscores (the seed's spelling) and --name-with-dashes as one option."""
    spellings = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
    parser.add_argument(*spellings, dest=name, **kwargs)


def check_device(device: str, name: str = "--device") -> None:
    """PosekitError unless `device` is a torch device this machine has (cpu, cuda, cuda:N, mps)."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise PosekitError(f"{name} {device!r}: not a torch device (use cpu, cuda or cuda:N)") from None
    if parsed.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise PosekitError(f"{name} {device}: this machine has no usable CUDA GPU; use --device cpu")
        if parsed.index is not None and parsed.index >= count:
            raise PosekitError(f"{name} {device}: GPU index must be in 0..{count - 1}")


def add_max_pixels(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """--max-pixels: images whose header gives more pixels are skipped with a warning, never decoded."""
    from posekit.choices import DEFAULT_MAX_PIXELS

    flag(
        parser,
        "max_pixels",
        type=max_pixels_value,
        default=DEFAULT_MAX_PIXELS,
        help=f"skip images over this many pixels, read from the header before decoding "
        f"(default {DEFAULT_MAX_PIXELS}; 0 = no limit)",
    )


def max_pixels_value(text: str) -> int | None:
    """argparse type of --max-pixels: a positive integer, or 0 for no limit (None)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value or None
