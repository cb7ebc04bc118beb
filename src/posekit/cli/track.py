"""`posekit track`: give the poses of an image sequence track ids (PoseFlow or the OKS tracker).

Also serves the seed script trackers_files/PoseFlow/tracker-general.py (same flags, PoseFlow default).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from posekit.choices import TRACKERS

TRACK_HELP = "track people through an image sequence from a pose results json"


def add_track_flags(parser: argparse.ArgumentParser, default_tracker: str) -> None:
    """The flags of tracker-general.py (plus --tracker and --save_matching), defined once."""

    def flag(name: str, **kwargs) -> None:
        spellings = [f"--{name}"]
        if "_" in name:
            spellings.append(f"--{name.replace('_', '-')}")
        parser.add_argument(*spellings, dest=name, **kwargs)

    flag("imgdir", required=True, help="folder of the frames (natural order)")
    flag("in_json", required=True, help="poses: alphapose-results.json (list) or its -forvis dict form")
    flag("out_json", required=True, help="tracked poses {imgname: [{keypoints, scores, idx}]}")
    flag("visdir", default="", help="also write frames drawn with an id-coloured skeleton and box here")
    flag("tracker", default=default_tracker, choices=tuple(TRACKERS), help="tracking method")
    flag("link", type=int, default=None, help="frames a lost person can be linked back (PoseFlow 100)")
    flag("drop", type=float, default=None, help="PoseFlow's --drop (2.0; accepted, unused as in AlphaPose)")
    flag("num", type=int, default=None, help="PoseFlow: keypoints averaged in the pose IoU (7)")
    flag("mag", type=float, default=None, help="PoseFlow: half-size in px of the box around a keypoint (30)")
    flag("match", type=float, default=None, help="PoseFlow: grade a match needs (0.2)")
    flag(
        "save_matching",
        action="store_true",
        help="PoseFlow: write ORB correspondences to <out_json dir>/poseflow/matching/{i}_{j}_orb.txt",
    )


def register(subparsers) -> None:
    """Add `posekit track`."""
    parser = subparsers.add_parser("track", help=TRACK_HELP, description=TRACK_HELP)
    add_track_flags(parser, default_tracker="oks")
    parser.set_defaults(run=run)


def tracker_options(args: argparse.Namespace) -> dict:
    """Options for build_tracker from the flags; PoseFlow-only flags given to the OKS tracker warn."""
    given = {
        k: getattr(args, k) for k in ("link", "drop", "num", "mag", "match") if getattr(args, k) is not None
    }
    if args.tracker == "poseflow":
        opts = dict(given)
        if args.save_matching:
            opts["save_matching"] = str(Path(args.out_json).resolve().parent / "poseflow" / "matching")
        return opts
    ignored = sorted(set(given) - {"link"}) + (["save_matching"] if args.save_matching else [])
    if ignored:
        print(f"warning: --{', --'.join(ignored)} only apply to --tracker poseflow; ignored", file=sys.stderr)
    return {"max_age": given["link"]} if "link" in given else {}


def run(args: argparse.Namespace) -> int:
    """Track the poses of --in_json over the frames of --imgdir and write --out_json."""
    from posekit.infer.track_job import track_folder

    track_folder(
        imgdir=args.imgdir,
        in_json=args.in_json,
        out_json=args.out_json,
        visdir=args.visdir or None,
        tracker=args.tracker,
        options=tracker_options(args),
    )
    return 0
