"""`posekit eval GT_JSON RESULTS_JSON`: COCO keypoint stats of a results file (pycocotools)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    """Add the `eval` subcommand."""
    parser = subparsers.add_parser("eval", help="COCO keypoint mAP of a results file against ground truth")
    parser.add_argument("gt_json", help="COCO keypoints ground truth (person_keypoints_*.json)")
    parser.add_argument("results_json", help="results: alphapose-results.json or a COCO results list")
    parser.add_argument(
        "--out", default=None, help="where the 10 stats go as json (default: <results>.stats.json beside it)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Print pycocotools' summary and the stats, and write the stats as json."""
    from posekit.evaluate.coco import evaluate_keypoints
    from posekit.io.atomic import atomic_write_json
    from posekit.paths import check_apart

    out = Path(args.out) if args.out else Path(args.results_json).with_suffix(".stats.json")
    check_apart([args.gt_json, args.results_json], files=[out])
    stats = evaluate_keypoints(args.gt_json, args.results_json, verbose=True)
    print(" | ".join(f"{name} {value:.4f}" for name, value in stats.items()))
    atomic_write_json(out, stats, indent=2)
    print(f"stats written to {out}")
    return 0
