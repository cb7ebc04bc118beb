"""Training throughput on this machine (run by hand, full size):

- samples/s of the FastPose ResNet-50 256x192 training step (forward, 0.5*MSE loss, backward, Adam),
  in fp32 and with bf16 autocast;
- samples/s the data loader delivers with the default worker count (real crops, augmentation and
  targets from coco-val-mini's people, repeated).

    python benchmarks/train_step.py [--batch 8] [--steps 5] [--shared ../shared/data/coco-val-mini]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from posekit.config import load_config
from posekit.models.builder import build_pose_model
from posekit.train.dataset import KeypointDataset
from posekit.train.metrics import heatmap_loss

REPO = Path(__file__).resolve().parents[1]
SEED_CFG = REPO / "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml"


def step_rate(batch: int, steps: int, amp: bool) -> float:
    """Training samples per second of FastPose-ResNet-50 at 256x192."""
    cfg = load_config(SEED_CFG)
    model = build_pose_model(cfg.model, cfg.data_preset).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.randn(batch, 3, 256, 192)
    targets = torch.rand(batch, 17, 64, 48)
    weights = torch.ones(batch, 17, 1, 1)

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
            out = model(images)
        loss = heatmap_loss(out.float(), targets, weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - start)


def loader_rate(coco_root: Path, batch: int, workers: int, repeat: int = 20) -> float:
    """Samples per second of the training data loader (seed config's augmentation, 256x192)."""
    gt = json.loads((coco_root / "annotations/person_keypoints_val2017.json").read_text())
    anns = [{**a, "id": a["id"] * 1000 + r} for r in range(repeat) for a in gt["annotations"]]
    with tempfile.TemporaryDirectory() as tmp:
        ann = Path(tmp) / "ann.json"
        ann.write_text(json.dumps({**gt, "annotations": anns}))
        cfg = load_config(
            SEED_CFG,
            {
                "DATASET.TRAIN.ROOT": str(coco_root),
                "DATASET.TRAIN.IMG_PREFIX": "val2017",
                "DATASET.TRAIN.ANN": str(ann),
            },
        )
        data = KeypointDataset(cfg, cfg.dataset.train, train=True)
        loader = DataLoader(data, batch_size=batch, shuffle=True, num_workers=workers)
        start = time.perf_counter()
        count = sum(len(images) for images, *_ in loader)
        return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--shared", default=str(REPO.parent / "shared/data/coco-val-mini"))
    args = parser.parse_args()
    workers = min(4, os.cpu_count() or 1)  # posekit train's default --nThreads
    fp32 = step_rate(args.batch, args.steps, amp=False)
    bf16 = step_rate(args.batch, args.steps, amp=True)
    print(
        f"training step, ResNet-50 256x192, batch {args.batch}: "
        f"fp32 {fp32:.2f} samples/s, bf16 autocast {bf16:.2f} samples/s"
    )
    rate = loader_rate(Path(args.shared), args.batch, workers)
    print(
        f"data loader, {workers} workers: {rate:.1f} samples/s "
        f"= {rate / max(fp32, bf16):.1f}x the faster step"
    )


if __name__ == "__main__":
    main()
