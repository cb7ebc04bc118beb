"""Run by torchrun in test_train.py: one epoch of tiny DDP training, then each rank saves its weights."""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.distributed as dist

from devkit.train_helpers import tiny_config
from posekit.train.distributed import setup_distributed
from posekit.train.loop import TrainOptions, _train


def main() -> None:
    """Train one epoch on both ranks (gloo, SyncBatchNorm), save rank{r}.pth with the rank's parameters
    (BN running statistics are per rank in DDP without SyncBatchNorm, which is GPU-only)."""
    coco_root, out = Path(sys.argv[1]), Path(sys.argv[2])
    cfg = tiny_config(coco_root, **{"TRAIN.END_EPOCH": 1, "TRAIN.BATCH_SIZE": 4})
    opts = TrainOptions(
        cfg=cfg, work_root=out / "exp", num_workers=0, validate=False, snapshot=1, sync_bn=True
    )
    info = setup_distributed("cpu", "gloo")
    summary = _train(opts, info)
    assert len(summary.history) == 1
    weights = {name: p.detach().clone() for name, p in summary.model.named_parameters()}
    torch.save(weights, out / f"rank{info.rank}.pth")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
