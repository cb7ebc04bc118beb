"""Shared set-up for training tests: the tiny config pointed at coco-val-mini, and a custom keypoint set."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from posekit.config import Config, load_config

REPO = Path(__file__).resolve().parents[1]
TINY_CFG = REPO / "configs/tests/tiny_res18_128x96.yaml"
GT_ANN = "annotations/person_keypoints_val2017.json"
DET_ANN = "annotations/person_detections_val2017.json"


def tiny_config(coco_root: Path, **overrides) -> Config:
    """configs/tests/tiny_res18_128x96.yaml with every dataset root at `coco_root` (COCO layout)."""
    values = {f"DATASET.{split}.ROOT": str(coco_root) for split in ("TRAIN", "VAL", "TEST")}
    values["DATASET.TEST.DET_FILE"] = str(coco_root / DET_ANN)
    values.update(overrides)
    return load_config(TINY_CFG, values)


def keypoint_subset(coco_root: Path, dest: Path, joints: list[int]) -> Path:
    """A copy of a COCO keypoints data set (images, detections) keeping only the `joints` (0-based) of
    every annotation, with num_keypoints recounted and the category's keypoint names cut to match."""
    data = json.loads((coco_root / GT_ANN).read_text(encoding="utf-8"))
    for category in data["categories"]:
        category["keypoints"] = [category["keypoints"][j] for j in joints]
        category.pop("skeleton", None)
    for ann in data["annotations"]:
        triples = [ann["keypoints"][3 * j : 3 * j + 3] for j in joints]
        ann["keypoints"] = [v for triple in triples for v in triple]
        ann["num_keypoints"] = sum(1 for triple in triples if triple[2] > 0)
    (dest / "annotations").mkdir(parents=True)
    (dest / "val2017").mkdir()
    (dest / GT_ANN).write_text(json.dumps(data), encoding="utf-8")
    shutil.copyfile(coco_root / DET_ANN, dest / DET_ANN)
    for image in (coco_root / "val2017").iterdir():  # copyfile: the shared files are read-only
        shutil.copyfile(image, dest / "val2017" / image.name)
    return dest
