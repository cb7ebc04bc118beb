"""Seed script: AlphaPose's demo, run from the repo root as
`python scripts/demo_inference.py --cfg=CFG --checkpoint=PTH --indir=DIR --outdir=DIR [--detector=NAME]`
(or --video=FILE --save_video --pose_flow --vis_fast, ...). Without --cfg/--checkpoint it uses the
embedded default model. A thin shim over `posekit infer`.
"""

from __future__ import annotations

import argparse

from posekit.cli.infer import add_infer_flags, run
from posekit.cli.main import run_guarded


def main(argv: list[str] | None = None) -> int:
    """Parse AlphaPose's demo flags and run the inference pipeline."""
    parser = argparse.ArgumentParser(description="AlphaPose-compatible inference demo (posekit).")
    add_infer_flags(parser)
    return run_guarded(run, parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
