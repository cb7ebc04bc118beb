"""Seed script: Labelme -> COCO keypoints, run from the repo root as
`python ./scripts/labelme2coco_keypoints.py --input=./data/input --output=./data/ [--ratio=0.2]`.

A thin shim over `posekit convert labelme` that prints the seed's log (counts, a line per image and
per person).
"""

from __future__ import annotations

import argparse

from posekit.cli.convert import add_convert_flags, run
from posekit.cli.main import run_guarded


def main(argv: list[str] | None = None) -> int:
    """Parse the seed's flags and run the converter with the seed's output."""
    parser = argparse.ArgumentParser(description="Convert Labelme annotations to COCO keypoints.")
    add_convert_flags(parser)
    parser.set_defaults(seed_log=True)
    return run_guarded(run, parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
