"""Shared set-up for training tests: the tiny config pointed at coco-val-mini."""

from __future__ import annotations

from pathlib import Path

from posekit.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]
TINY_CFG = REPO / "configs/tests/tiny_res18_128x96.yaml"


def tiny_config(coco_root: Path, **overrides) -> Config:
    """configs/tests/tiny_res18_128x96.yaml with every dataset root at `coco_root` (COCO layout)."""
    values = {f"DATASET.{split}.ROOT": str(coco_root) for split in ("TRAIN", "VAL", "TEST")}
    values["DATASET.TEST.DET_FILE"] = str(coco_root / "annotations/person_detections_val2017.json")
    values.update(overrides)
    return load_config(TINY_CFG, values)
