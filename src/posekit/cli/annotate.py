"""`posekit annotate`: pre-label a folder of photos into Labelme files with any pose model."""

from __future__ import annotations

import argparse
import sys

from posekit.cli.common import flag
from posekit.cli.infer import add_model_flags, model_options_from_args, stream_options_from_args


def register(subparsers) -> None:
    """Add `posekit annotate`."""
    parser = subparsers.add_parser(
        "annotate",
        help="pre-label photos: one Labelme file of predicted people per image",
        description="Run a pose model over a folder of photos and write one Labelme file per image (a "
        "`person` polygon and the keypoints each person's model puts above --kpt-thr, one group_id per "
        "person), for review in Labelme and `posekit convert labelme`.",
    )
    parser.add_argument("--indir", required=True, help="folder of photos")
    parser.add_argument(
        "--output", default=None, help="folder of the Labelme files (default: beside the photos; "
        "another folder gets a hard link or copy of each photo beside its file)",
    )  # fmt: skip
    flag(parser, "kpt_thr", type=float, default=None, help="lowest score of a point kept (0.4)")
    modes = parser.add_mutually_exclusive_group()
    flag(modes, "only_missing", action="store_true", help="pre-label only photos without a Labelme file")
    modes.add_argument("--merge", action="store_true", help="add people who overlap nobody annotated")
    modes.add_argument("--overwrite", action="store_true", help="replace existing Labelme files")
    flag(parser, "embed_image", action="store_true", help="embed each photo in its file (imageData)")
    add_model_flags(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Pre-label; 0 when every photo got its file, 1 when some could not be read (listed)."""
    from posekit.convert.prelabel import DEFAULT_KPT_THR
    from posekit.infer.annotate_job import AnnotateOptions, annotate_folder
    from posekit.infer.options import InferOptions

    chosen = {"only-missing": args.only_missing, "merge": args.merge, "overwrite": args.overwrite}
    mode = next((name for name, on in chosen.items() if on), "new")
    kpt_thr = DEFAULT_KPT_THR if args.kpt_thr is None else args.kpt_thr
    options = AnnotateOptions(kpt_thr=kpt_thr, mode=mode, embed_images=args.embed_image)
    infer = InferOptions(model_options_from_args(args), stream_options_from_args(args))
    summary = annotate_folder(infer, args.indir, args.output, options)
    print(
        f"pre-labelled {summary.people} people ({summary.points} points) in "
        f"{len(summary.written) + len(summary.merged)} Labelme file(s) in {summary.output} "
        f"({len(summary.written)} written, {len(summary.merged)} merged, "
        f"{len(summary.kept)} kept as they were) "
        f"in {summary.seconds:.1f} s"
    )
    if summary.failed:
        print(f"warning: skipped {len(summary.failed)} image(s):", file=sys.stderr)
        for name, reason in summary.failed:
            print(f"  {name}: {reason}", file=sys.stderr)
        return 1
    return 0
