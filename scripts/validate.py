"""Seed script: `python ./scripts/validate.py --cfg=CFG --checkpoint=PTH` prints
`##### gt box: X mAP | det box: Y mAP #####`. A thin shim over `posekit validate`."""

from __future__ import annotations

import argparse

from posekit.cli.main import run_guarded
from posekit.cli.validate import add_validate_flags, run


def main(argv: list[str] | None = None) -> int:
    """Parse AlphaPose's validate flags and validate."""
    parser = argparse.ArgumentParser(description="gt-box and det-box validation (posekit).")
    add_validate_flags(parser)
    return run_guarded(run, parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
