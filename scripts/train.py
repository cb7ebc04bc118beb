"""Seed script: `python ./scripts/train.py --cfg=CFG --batch_size=2 --end_epoch=2 [--pretrained=PTH]
[--try_load=PTH]`, also under `torchrun --nproc_per_node=N`. A thin shim over `posekit train`."""

from __future__ import annotations

import argparse

from posekit.cli.main import run_guarded
from posekit.cli.train import add_train_flags, run


def main(argv: list[str] | None = None) -> int:
    """Parse the seed's training flags and train."""
    parser = argparse.ArgumentParser(description="Train a FastPose model (posekit).")
    add_train_flags(parser)
    return run_guarded(run, parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
