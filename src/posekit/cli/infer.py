"""`posekit infer`: detect people and estimate their poses in images, a folder, a video or a webcam.

The same flags as AlphaPose's scripts/demo_inference.py (which is a shim over this module).
"""

from __future__ import annotations

import argparse
import sys
import warnings

from posekit.cli.backend import add_backend_flags, detector_backend
from posekit.cli.common import add_cfg_checkpoint, add_detector_weights, add_device, flag

DEFAULT_QSIZE = 16


def add_infer_flags(parser: argparse.ArgumentParser) -> None:
    """Every AlphaPose demo flag plus --detector, --device and --sample."""
    add_cfg_checkpoint(parser, required=False)
    add_device(parser)
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
    out.add_argument("--outdir", dest="outputpath", default="examples/res/", help="output folder")
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
    out.add_argument("--format", choices=["coco", "cmu", "open"], default=None, help="results json layout")
    out.add_argument(
        "--eval", action="store_true", help="integer image ids in the json (for COCO evaluation)"
    )
    run = parser.add_argument_group("models and speed")
    run.add_argument(
        "--detector",
        default="blazepose",
        help="person detector (blazepose, yolo, yolox-x, yolo11n-pose, any YOLO-pose .pt, ...)",
    )
    flag(
        run,
        "pose_model",
        choices=["auto", "default", "detector"],
        default="auto",
        help="without --cfg/--checkpoint: default (BlazePose landmarks on the boxes), detector (a "
        "keypoint detector's own keypoints, one-stage) or auto (detector's if it has them)",
    )
    add_detector_weights(run)
    flag(run, "min_box_area", type=float, default=0.0, help="drop poses whose box area is below this")
    run.add_argument("--detbatch", type=int, default=5, help="images per detector call")
    run.add_argument("--posebatch", type=int, default=64, help="person crops per pose-model batch")
    run.add_argument("--flip", action="store_true", help="flip test (average with the mirrored image)")
    add_backend_flags(run)
    run.add_argument(
        "--qsize",
        type=int,
        default=DEFAULT_QSIZE,
        help=f"frames waiting between stages (default {DEFAULT_QSIZE})",
    )
    run.add_argument("--sp", action="store_true", help="run every stage in one thread (same results)")
    run.add_argument("--profile", action="store_true", help="print the time spent in each stage")
    run.add_argument("--debug", action="store_true", help="same as --profile")
    track = parser.add_argument_group("tracking")
    flag(track, "pose_flow", action="store_true", help="track people with PoseFlow")
    flag(track, "pose_track", action="store_true", help="track people with the online OKS tracker")


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


def run(args: argparse.Namespace) -> int:
    """Run inference as the flags say; 0 when done, 130 when interrupted (results still written)."""
    from posekit.cli.common import resolve_device
    from posekit.infer.models import load_pose_model
    from posekit.infer.outputs import RenderedOutputs
    from posekit.pipeline import run_inference

    source = _open_source(args)
    device = resolve_device(args)
    tracking = args.pose_flow or args.pose_track
    detector = _load_detector(args, device, tracking)
    pose_model = load_pose_model(
        args.cfg,
        args.checkpoint,
        device,
        args.posebatch,
        args.flip,
        backend=args.backend,
        precision=args.precision,
        compile=args.compile,
        detector=detector,
        pose_model=args.pose_model,
    )
    tracker = _build_tracker(args) if tracking else None
    if args.vis:
        warnings.warn(
            "--vis needs a display window, which headless OpenCV lacks; use --save_img", stacklevel=1
        )
    save_img = args.save_img or (not source.is_video and not args.no_save_img)
    outputs = RenderedOutputs(
        args.outputpath,
        save_img=save_img,
        save_video=args.save_video,
        video_stem=source.stem,
        fps=source.fps,
        fast=args.vis_fast,
        show_box=args.showbox,
        tracking=tracking,
    )
    summary = run_inference(
        source,
        detector,
        pose_model,
        args.outputpath,
        outputs=outputs,
        tracker=tracker,
        detbatch=1 if args.webcam >= 0 else args.detbatch,
        qsize=args.qsize,
        single_thread=args.sp,
        min_box_area=args.min_box_area,
        fmt=args.format,
        for_eval=args.eval,
    )
    _report(summary, args, save_img)
    return 130 if summary.interrupted else 0


def _open_source(args: argparse.Namespace):
    from posekit.infer.sources import (
        collect_image_paths,
        open_images,
        open_video,
        open_webcam,
        sample_image_path,
    )

    if args.webcam >= 0:
        return open_webcam(args.webcam)
    if args.video:
        return open_video(args.video)
    if args.sample and not (args.inputlist or args.inputpath or args.inputimg):
        return open_images([sample_image_path()])
    return open_images(collect_image_paths(args.inputpath, args.inputlist, args.inputimg))


def _load_detector(args: argparse.Namespace, device: str, tracking: bool):
    if args.detfile:
        from posekit.infer.detfile import DetectionFile

        detections = DetectionFile(args.detfile)
        print(f"Using {len(detections)} images' detections from {args.detfile}")
        return detections
    from posekit.detectors import build_detector, canonical_detector_name

    name = canonical_detector_name(args.detector)
    print(f"Loading {name} detector..")
    return build_detector(
        name,
        weights=args.detector_weights,
        device=device,
        tracking=tracking,
        backend=detector_backend(args),
        precision=args.precision,
    )


def _build_tracker(args: argparse.Namespace):
    from posekit.track import inference_tracker

    return inference_tracker("poseflow" if args.pose_flow else "oks", args.outputpath)


def _report(summary, args: argparse.Namespace, save_img: bool) -> None:
    from pathlib import Path

    outdir = Path(args.outputpath)
    print(
        f"{summary.frames} frame(s), {summary.people} pose(s) in {summary.seconds:.1f} s "
        f"({summary.fps:.2f} frames/s); results: {summary.results_path}"
    )
    if save_img and summary.frames:
        print(f"rendered images: {outdir / 'vis'}")
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
