"""`posekit batch`: pose extraction over many videos and image folders on Ray (this machine or a cluster)."""

from __future__ import annotations

import argparse
import sys

from posekit.choices import FORMATS
from posekit.cli.common import flag
from posekit.cli.infer import (
    add_model_flags,
    add_video_flags,
    model_options_from_args,
    output_options_from_args,
    stream_options_from_args,
)


def register(subparsers) -> None:
    """Add `posekit batch`."""
    parser = subparsers.add_parser(
        "batch",
        help="estimate poses in many videos and image folders (Ray: all cores or a cluster; resumable)",
        description="Treat each video and each folder of images among INPUT (folders, files, glob "
        "patterns, text files with one path per line) as a unit of work; write OUTDIR/<rel>/"
        "alphapose-results.json (as `posekit infer` writes it for that input alone) and OUTDIR/batch.jsonl. "
        "Re-running skips complete units; failed units are retried, then reported.",
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="folder, video, image, glob or list file")
    parser.add_argument("--outdir", required=True, help="output folder (a path every node sees)")
    out = parser.add_argument_group("output (as posekit infer)")
    out.add_argument("--format", choices=FORMATS, default=None, help="results json layout")
    out.add_argument("--eval", action="store_true", help="integer image ids in the json")
    flag(out, "save_img", action="store_true", help="render images (on for image folders)")
    flag(out, "no_save_img", action="store_true", help="do not render images")
    flag(out, "save_video", action="store_true", help="render each video as <rel>/AlphaPose_<name>.mp4")
    flag(out, "vis_fast", action="store_true", help="fast drawing")
    out.add_argument("--showbox", action="store_true", help="draw the detection boxes (and track ids)")
    add_model_flags(parser)
    track = parser.add_argument_group("tracking (as posekit infer)")
    flag(track, "pose_flow", action="store_true", help="track people with PoseFlow")
    flag(track, "pose_track", action="store_true", help="track people with the online OKS tracker")
    add_video_flags(track)
    where = parser.add_argument_group("where it runs")
    where.add_argument("--workers", type=int, default=None, help="workers (default: one per core)")
    where.add_argument(
        "--threads", type=int, default=None, help="threads per worker (default: cores/workers)"
    )
    where.add_argument(
        "--ray", default=None, metavar="ADDRESS", help="join a Ray cluster: auto or ray://host:port"
    )
    flag(where, "gpus_per_worker", type=float, default=0.0, help="GPUs per worker (e.g. 0.5)")
    where.add_argument("--retries", type=int, default=2, help="tries again of a failed unit (default 2)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the batch; 0 when every unit is done, 1 when some failed, 130 when interrupted."""
    from posekit.batching import BatchOptions, run_batch
    from posekit.infer.options import InferOptions

    output = output_options_from_args(args)  # its outdir is each unit's, set by the worker
    options = InferOptions(model_options_from_args(args), stream_options_from_args(args), output)
    batch = BatchOptions(args.workers, args.threads, args.ray, args.gpus_per_worker, args.retries)
    summary = run_batch(args.inputs, args.outdir, options, batch)
    report(summary)
    return 130 if summary.interrupted else 0 if summary.ok else 1


def report(summary) -> None:
    """The final summary: units done/failed/skipped, frames/s overall and per worker, failures."""
    print(
        f"{len(summary.done)} unit(s) done, {len(summary.failed)} failed, {len(summary.skipped)} skipped "
        f"(complete already); {summary.frames} frame(s), {summary.people} pose(s) in {summary.seconds:.1f} s "
        f"({summary.fps:.2f} frames/s); manifest: {summary.outdir / 'batch.jsonl'}"
    )
    for worker, (frames, seconds) in sorted(summary.worker_frames.items()):
        rate = frames / max(seconds, 1e-9)
        print(f"  worker {worker}: {frames} frame(s) in {seconds:.1f} s ({rate:.2f} frames/s)")
    if summary.failed:
        print(f"warning: {len(summary.failed)} unit(s) failed:", file=sys.stderr)
        for name, error in summary.failed:
            print(f"  {name}: {error}", file=sys.stderr)
    if summary.interrupted:
        print(
            "interrupted: the units done are written; run the same command again to continue", file=sys.stderr
        )
