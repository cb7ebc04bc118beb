"""`posekit convert labelme` (Labelme -> COCO keypoints) and `posekit convert sample` (files to try it on)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_convert_flags(parser: argparse.ArgumentParser) -> None:
    """The converter's flags, shared with scripts/labelme2coco_keypoints.py (devkit spellings as aliases)."""
    parser.add_argument(
        "--input", "--input_path", "--input-path", dest="input", default="./data/input",
        help="folder of Labelme .json files (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--output", "--output_path", "--output-path", dest="output", default="./data/",
        help="output folder; writes <output>/coco/... (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--ratio", "--split_ratio", "--split-ratio", dest="ratio", type=float, default=0.2,
        help="fraction of the images that go to val (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the train/val split (default: %(default)s)"
    )
    parser.add_argument(
        "--strict", action="store_true", help="any bad file is an error (exit 1) and nothing is written"
    )
    parser.add_argument(
        "--keypoints", default="coco",
        help="keypoint set whose names label the points: coco (17), halpe_26, halpe_136, coco_wholebody, "
        "halpe_68_noface, single_hand (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument("-v", "--verbose", action="store_true", help="print a line per image and per person")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `convert labelme`, `convert sample` and `convert coco2labelme`."""
    convert = subparsers.add_parser("convert", help="convert annotations to COCO keypoints")
    kinds = convert.add_subparsers(dest="convert_format", metavar="FORMAT", required=True)
    labelme = kinds.add_parser(
        "labelme",
        help="Labelme json files -> COCO person keypoints (train/val split)",
        description="Convert Labelme files (person polygons + COCO keypoint points, one group_id per "
        "person) into <output>/coco/annotations/person_keypoints_{train,val}2017.json and "
        "<output>/coco/{train,val}2017/.",
    )
    add_convert_flags(labelme)
    labelme.set_defaults(run=run, seed_log=False)
    sample = kinds.add_parser(
        "sample", help="write synthetic Labelme files (drawn figures) to try the converter"
    )
    sample.add_argument(
        "--output", default="./data/input", help="folder to write into (default: %(default)s)"
    )
    sample.add_argument("--count", type=int, default=20, help="number of files (default: %(default)s)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    sample.set_defaults(run=run_sample)
    back = kinds.add_parser(
        "coco2labelme",
        help="COCO person keypoints -> Labelme files (to review or fix a data set in Labelme)",
        description="Write one Labelme file per image of a COCO keypoints json into --output, beside a "
        "hard link (else a copy) of the image: person polygons from the segmentation (the bbox where "
        "there is none), labelled keypoints as points (v=1 flagged occluded), one group_id per person.",
    )
    back.add_argument("annotations", help="COCO keypoints json (e.g. person_keypoints_val2017.json)")
    back.add_argument("--images", required=True, help="folder of the json's images")
    back.add_argument("--output", required=True, help="folder to write the Labelme files into")
    back.add_argument("--overwrite", action="store_true", help="replace existing Labelme files")
    back.set_defaults(run=run_coco2labelme)


def run(args: argparse.Namespace) -> int:
    """Convert; bad files give one warning line each, then a summary (the seed's log with seed_log)."""
    from tqdm import tqdm

    from posekit.convert import plan_conversion, write_conversion
    from posekit.convert.labelme_coco import check_not_nested, check_plan
    from posekit.errors import PosekitError
    from posekit.skeleton import keypoint_set

    check_not_nested(Path(args.input), Path(args.output) / "coco")
    try:
        kset = keypoint_set(getattr(args, "keypoints", "coco"))
    except KeyError as exc:
        raise PosekitError(f"--keypoints: {exc.args[0]}") from None
    seed_log = getattr(args, "seed_log", False)
    verbose = args.verbose or seed_log
    with tqdm(desc="reading", unit="file", leave=False, disable=None) as bar:
        plan = plan_conversion(
            args.input, args.ratio, args.seed, progress=lambda _: _tick(bar), keypoints=kset
        )
    for skipped in plan.skipped:
        print(f"warning: {skipped.path}: {skipped.reason}", file=sys.stderr)
    check_plan(plan, args.strict)
    if seed_log:
        print(f"{len(plan.train)} for training")
        print(f"\n{len(plan.val)} for testing")
        print("Start transform please wait ...")
    with tqdm(
        total=len(plan.train) + len(plan.val), unit="img", disable=None if not seed_log else False
    ) as bar:

        def on_image(item) -> None:
            if verbose:
                bar.write(
                    f"Start annotate for img: {item.json_path} There are {item.num_people} people in total"
                )
                for k in range(1, item.num_people + 1):
                    bar.write(f"Person {k} ...")
            bar.update()

        summary = write_conversion(plan, args.output, on_image=on_image)
    print(
        f"converted {len(summary.converted)} of {plan.total} files "
        f"({summary.count('train')} train, {summary.count('val')} val, {summary.num_people} people) "
        f"into {summary.coco_root}"
        + (f"; skipped {len(summary.skipped)} (see warnings above)" if summary.skipped else "")
    )
    return 0


def run_sample(args: argparse.Namespace) -> int:
    """Write sample Labelme files and say how to convert them."""
    from posekit.convert.sample import write_sample_labelme

    paths = write_sample_labelme(args.output, count=args.count, seed=args.seed)
    print(f"wrote {len(paths)} Labelme files with images into {args.output}")
    print(f"convert them: posekit convert labelme --input {args.output} --output <folder>")
    return 0


def run_coco2labelme(args: argparse.Namespace) -> int:
    """COCO -> Labelme; 0 when every image got its file, 1 when some were skipped (listed)."""
    from tqdm import tqdm

    from posekit.convert.coco_labelme import coco_to_labelme

    with tqdm(desc="writing Labelme files", unit="img", disable=None) as bar:
        summary = coco_to_labelme(
            args.annotations, args.images, args.output, args.overwrite, on_image=lambda _: _tick(bar)
        )
    crowd = f"; left out {summary.crowd_regions} crowd region(s)" if summary.crowd_regions else ""
    kept = f", kept {len(summary.kept)} existing (--overwrite replaces them)" if summary.kept else ""
    written = f"wrote {len(summary.written)} Labelme file(s) ({summary.people} people)"
    print(f"{written} into {args.output}{kept}{crowd}")
    for name, reason in summary.skipped:
        print(f"warning: skipped {name}: {reason}", file=sys.stderr)
    return 1 if summary.skipped else 0


def _tick(bar: Any) -> None:
    """One more item on a tqdm bar."""
    bar.update()
