"""`posekit infer`: detect people and estimate their poses in images, a folder, a video or a webcam.

The same flags as AlphaPose's scripts/demo_inference.py (which is a shim over this module).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from posekit import console
from posekit.choices import FORMATS, POSE_MODELS
from posekit.cli.backend import add_backend_flags
from posekit.cli.common import (
    add_cfg_checkpoint,
    add_detector_weights,
    add_device,
    add_max_pixels,
    add_subpixel,
    flag,
)
from posekit.infer.options import ModelOptions, OutputOptions, StreamOptions


def add_infer_flags(parser: argparse.ArgumentParser) -> None:
    """Every AlphaPose demo flag plus --detector, --device and --sample."""
    run = add_model_flags(parser)
    run.add_argument("--profile", action="store_true", help="print the time spent in each stage")
    run.add_argument("--debug", action="store_true", help="same as --profile")
    src = parser.add_argument_group("input (priority: webcam, video, list, indir, image, sample)")
    src.add_argument("--image", dest="inputimg", default="", help="one image file")
    src.add_argument(
        "--list", dest="inputlist", default="", help="text file of image paths (relative to --indir)"
    )
    src.add_argument("--indir", dest="inputpath", default="", help="folder of images (natural order)")
    src.add_argument("--video", default="", help="video file")
    src.add_argument("--webcam", type=int, default=-1, help="camera index (>= 0 reads a webcam)")
    src.add_argument(
        "--sample", action="store_true", help="run on scikit-image's astronaut photo (no download)"
    )
    flag(src, "detfile", default="", help="COCO-style detection json to use instead of a detector")
    out = parser.add_argument_group("output")
    out.add_argument("--outdir", dest="outputpath", default=OutputOptions.outdir, help="output folder")
    flag(
        out, "save_img", action="store_true", help="save rendered images in OUTDIR/vis/ (on for image input)"
    )
    flag(out, "no_save_img", action="store_true", help="do not render images for image input")
    flag(
        out, "save_video", action="store_true", help="save the rendered video as OUTDIR/AlphaPose_<name>.mp4"
    )
    flag(out, "vis_fast", action="store_true", help="fast drawing (solid points and lines)")
    out.add_argument("--showbox", action="store_true", help="draw the detection boxes (and track ids)")
    out.add_argument("--vis", action="store_true", help="live window (not available with headless OpenCV)")
    out.add_argument("--format", choices=FORMATS, default=None, help="results json layout")
    out.add_argument(
        "--eval", action="store_true", help="integer image ids in the json (for COCO evaluation)"
    )
    track = parser.add_argument_group("tracking")
    flag(track, "pose_flow", action="store_true", help="track people with PoseFlow")
    flag(track, "pose_track", action="store_true", help="track people with the online OKS tracker")
    add_video_flags(track)


def add_model_flags(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The flags that choose and run the models (shared by `posekit infer` and `posekit annotate`);
    returns their group."""
    add_cfg_checkpoint(parser, required=False)
    add_device(parser)
    run = parser.add_argument_group("models and speed")
    run.add_argument(
        "--detector",
        default=ModelOptions.detector,
        help="person detector (blazepose, yolo, yolox-x, yolo11n-pose, any YOLO-pose .pt, ...)",
    )
    flag(
        run,
        "pose_model",
        choices=POSE_MODELS,
        default=ModelOptions.pose_model,
        help="without --cfg/--checkpoint: default (BlazePose landmarks on the boxes), detector (a "
        "keypoint detector's own keypoints, one-stage) or auto (detector's if it has them)",
    )
    add_detector_weights(run)
    flag(
        run,
        "min_box_area",
        type=float,
        default=StreamOptions.min_box_area,
        help="drop poses whose box area is below this",
    )
    run.add_argument("--detbatch", type=int, default=StreamOptions.detbatch, help="images per detector call")
    run.add_argument(
        "--posebatch", type=int, default=ModelOptions.posebatch, help="person crops per pose-model batch"
    )
    run.add_argument("--flip", action="store_true", help="flip test (average with the mirrored image)")
    add_subpixel(run)
    add_backend_flags(run)
    add_max_pixels(run)
    run.add_argument(
        "--qsize",
        type=int,
        default=StreamOptions.qsize,
        help=f"frames waiting between stages (default {StreamOptions.qsize})",
    )
    run.add_argument("--sp", action="store_true", help="run every stage in one thread (same results)")
    run.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also print model loading, AlphaPose's stage messages and the runtimes' info lines",
    )
    return run


VIDEO_FLAGS = ("det_interval", "smooth", "smooth_min_cutoff", "smooth_beta", "smooth_d_cutoff")


def add_video_flags(group) -> None:
    """--det_interval and the One-Euro smoothing flags (posekit.infer.tracked, posekit.track.smoothing)."""
    from posekit.choices import DEFAULT_BETA, DEFAULT_D_CUTOFF, DEFAULT_DET_INTERVAL, DEFAULT_MIN_CUTOFF

    flag(
        group,
        "det_interval",
        type=int,
        default=None,
        help=f"run the detector every N frames and follow people by their poses in between (default "
        f"{DEFAULT_DET_INTERVAL} for video, webcam and tracked image sequences, else 1 = every frame)",
    )
    flag(group, "smooth", action="store_true", help="One-Euro smoothing of each track's keypoints")
    flag(
        group,
        "smooth_min_cutoff",
        type=float,
        default=DEFAULT_MIN_CUTOFF,
        help=f"smoothing of still keypoints: lower = smoother, more lag (Hz, default {DEFAULT_MIN_CUTOFF})",
    )
    flag(
        group,
        "smooth_beta",
        type=float,
        default=DEFAULT_BETA,
        help=f"how fast the smoothing lets go as a person moves: higher = less lag (per body size/s, "
        f"default {DEFAULT_BETA})",
    )
    flag(
        group,
        "smooth_d_cutoff",
        type=float,
        default=DEFAULT_D_CUTOFF,
        help=f"smoothing of the speed estimate (Hz, default {DEFAULT_D_CUTOFF})",
    )


def register(subparsers) -> None:
    """Add `posekit infer`."""
    parser = subparsers.add_parser(
        "infer",
        help="estimate poses in images, a folder, a video or a webcam",
        description="Detect people and estimate COCO-17 poses; writes OUTDIR/alphapose-results.json, "
        "rendered images in OUTDIR/vis/ and, with --save_video, OUTDIR/AlphaPose_<name>.mp4.",
    )
    add_infer_flags(parser)
    parser.set_defaults(run=run)


def infer_options_from_args(args: argparse.Namespace):
    """The InferOptions the flags say (validated: a bad value is one PosekitError line)."""
    from posekit.infer.options import InferOptions

    return InferOptions(
        model_options_from_args(args), stream_options_from_args(args), output_options_from_args(args)
    )


def model_options_from_args(args: argparse.Namespace):
    """The ModelOptions of add_model_flags' flags (and --detfile where the command has it)."""
    from posekit.cli.common import device_from_args

    return ModelOptions(
        detector=args.detector,
        detector_weights=args.detector_weights,
        detfile=getattr(args, "detfile", None) or None,
        cfg=args.cfg,
        checkpoint=args.checkpoint,
        backend=args.backend,
        det_backend=args.det_backend,
        precision=args.precision,
        compile=args.compile,
        pose_model=args.pose_model,
        flip=args.flip,
        subpixel=args.subpixel,
        device=device_from_args(args),
        posebatch=args.posebatch,
    )


def stream_options_from_args(args: argparse.Namespace):
    """The StreamOptions of add_model_flags' run flags and, where the command has them (infer, batch),
    the tracking and video flags."""
    video = {name: getattr(args, name) for name in VIDEO_FLAGS if hasattr(args, name)}
    tracker = (
        "poseflow"
        if getattr(args, "pose_flow", False)
        else "oks"
        if getattr(args, "pose_track", False)
        else "none"
    )
    return StreamOptions(
        detbatch=args.detbatch,
        min_box_area=args.min_box_area,
        tracker=tracker,
        qsize=args.qsize,
        single_thread=args.sp,
        max_pixels=args.max_pixels,
        **video,
    )


def output_options_from_args(args: argparse.Namespace):
    """The OutputOptions of the output flags (shared with `posekit batch`, whose outdir is its root)."""
    return OutputOptions(
        outdir=getattr(args, "outputpath", None) or OutputOptions.outdir,
        format=args.format or "coco",
        for_eval=args.eval,
        save_img=True if args.save_img else False if args.no_save_img else None,
        save_video=args.save_video,
        vis_fast=args.vis_fast,
        showbox=args.showbox,
    )


def run(args: argparse.Namespace) -> int:
    """Run inference as the flags say; 0 when done, 130 when interrupted by Ctrl-C or SIGTERM (the
    results of the frames done are still written)."""
    from posekit.infer.pipeline import Pipeline
    from posekit.io.atomic import check_writable_folder

    options = infer_options_from_args(args)
    check_writable_folder(options.output.outdir)  # before the models load
    source = _open_source(args)
    if args.vis:
        warnings.warn(
            "--vis needs a display window, which headless OpenCV lacks; use --save_img", stacklevel=1
        )
    with sigterm_as_interrupt():
        pipe = Pipeline(options, log=console.detail)
        summary = pipe.run(source, log=console.detail)
    _report(summary, args)
    return 130 if summary.interrupted else 0


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside: SIGTERM (e.g. `kill`, a container stop) ends the run as Ctrl-C does (KeyboardInterrupt
    in the main thread, once; a second SIGTERM while stopping is ignored). Outside the main thread,
    where signals cannot be handled, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    raised = False

    def handle(signum, frame) -> None:
        nonlocal raised
        if not raised:
            raised = True
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _open_source(args: argparse.Namespace):
    from posekit.errors import PosekitError
    from posekit.infer.sources import open_source
    from posekit.io.images import sample_image_path

    if args.webcam >= 0:
        return open_source(args.webcam, kind="webcam")
    if args.video:
        return open_source(args.video, args.max_pixels, kind="video")
    if args.inputlist:
        return open_source(args.inputlist, args.max_pixels, kind="list", list_base=args.inputpath)
    if args.inputpath:
        return open_source(args.inputpath, args.max_pixels, kind="folder")
    if args.inputimg:
        return open_source(args.inputimg, args.max_pixels, kind="image")
    if args.sample:
        return open_source(sample_image_path(), kind="image")
    raise PosekitError("no input: give --image, --list, --indir, --video, --webcam or --sample")


def _report(summary, args: argparse.Namespace) -> None:
    print(
        f"{summary.frames} frame(s), {summary.people} pose(s) in {summary.seconds:.1f} s "
        f"({summary.fps:.2f} frames/s); results: {summary.results_path}"
    )
    if summary.images_dir:
        print(f"rendered images: {summary.images_dir}")
    if summary.video_path:
        print(f"rendered video: {summary.video_path}")
    if args.profile or args.debug:
        total = sum(summary.stage_seconds.values()) or 1.0
        for stage, seconds in summary.stage_seconds.items():
            print(f"  {stage:<7} {seconds:8.2f} s  {100 * seconds / total:5.1f} %")
    if summary.failed:
        print(f"warning: skipped {len(summary.failed)} unreadable input(s):", file=sys.stderr)
        for name, error in summary.failed:
            print(f"  {name}: {error}", file=sys.stderr)
    if summary.interrupted:
        print(f"interrupted: results of the {summary.frames} frame(s) done were written", file=sys.stderr)
