"""Seed script: PoseFlow tracking of an image folder's poses (same as `posekit track --tracker poseflow`).

python ./trackers_files/PoseFlow/tracker-general.py --imgdir=... --in_json=... --out_json=... --visdir=...
"""

import argparse

from posekit.cli.main import run_guarded
from posekit.cli.track import add_track_flags, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="PoseFlow pose tracking (posekit)")
    add_track_flags(parser, default_tracker="poseflow")
    raise SystemExit(run_guarded(run, parser.parse_args()))
