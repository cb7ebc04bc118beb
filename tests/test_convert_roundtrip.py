"""Round trip on real data: COCO val2017 annotations -> Labelme files -> posekit convert -> the same COCO."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from posekit.convert import convert_labelme
from posekit.skeleton import KEYPOINT_NAMES


def coco_to_labelme(coco: dict, image_dir: Path, out: Path) -> None:
    """One Labelme file per image: a polygon per segmentation part and a point per labelled keypoint."""
    out.mkdir(parents=True)
    for image in coco["images"]:
        shapes = []
        people = [a for a in coco["annotations"] if a["image_id"] == image["id"]]
        for group_id, ann in enumerate(people, start=1):
            for part in ann["segmentation"]:
                points = [[part[i], part[i + 1]] for i in range(0, len(part), 2)]
                shapes.append(
                    {"label": "person", "points": points, "group_id": group_id, "shape_type": "polygon"}
                )
            for k, name in enumerate(KEYPOINT_NAMES):
                x, y, v = ann["keypoints"][3 * k : 3 * k + 3]
                if v > 0:
                    shapes.append({"label": name, "points": [[x, y]], "group_id": group_id,
                                   "shape_type": "point", "flags": {"occluded": v == 1}})  # fmt: skip
        shutil.copyfile(image_dir / image["file_name"], out / image["file_name"])
        doc = {"version": "5.4.1", "flags": {}, "shapes": shapes, "imagePath": image["file_name"],
               "imageData": None, "imageHeight": image["height"], "imageWidth": image["width"]}  # fmt: skip
        (out / f"{Path(image['file_name']).stem}.json").write_text(json.dumps(doc))


@pytest.fixture(scope="module")
def converted(coco_mini, tmp_path_factory):
    original = json.loads((coco_mini / "annotations" / "person_keypoints_val2017.json").read_text())
    assert all(a["iscrowd"] == 0 for a in original["annotations"])
    root = tmp_path_factory.mktemp("roundtrip")
    coco_to_labelme(original, coco_mini / "val2017", root / "labelme")
    summary = convert_labelme(root / "labelme", root / "out", ratio=0.5, seed=0)
    return original, summary


def test_every_image_keypoint_and_box_survives(converted):
    original, summary = converted
    assert summary.skipped == [] and (summary.count("train"), summary.count("val")) == (2, 2)
    by_name = {im["file_name"]: im for im in original["images"]}
    checked = 0
    for split in ("train", "val"):
        doc = json.loads(
            (summary.coco_root / "annotations" / f"person_keypoints_{split}2017.json").read_text()
        )
        for image in doc["images"]:
            source = by_name[image["file_name"]]
            assert (image["width"], image["height"]) == (source["width"], source["height"])
            written = summary.coco_root / f"{split}2017" / image["file_name"]
            assert (
                written.read_bytes()
                == (summary.coco_root.parents[1].joinpath("labelme", image["file_name"])).read_bytes()
            )
            mine = [a for a in doc["annotations"] if a["image_id"] == image["id"]]
            theirs = [a for a in original["annotations"] if a["image_id"] == source["id"]]
            assert len(mine) == len(theirs) > 0
            for a, b in zip(mine, theirs):
                assert a["keypoints"] == b["keypoints"]
                assert a["num_keypoints"] == b["num_keypoints"]
                assert a["bbox"] == b["bbox"]
                assert a["segmentation"] == b["segmentation"]
                assert a["area"] == pytest.approx(b["area"], rel=0.03)  # polygon area vs COCO's mask area
                checked += 1
    assert checked == len(original["annotations"]) == 14


def test_converted_val_json_evaluates_to_ap_1_against_itself(converted):
    _, summary = converted
    gt_path = summary.coco_root / "annotations" / "person_keypoints_val2017.json"
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        results = [{"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"], "score": 1.0}
                   for a in gt.loadAnns(gt.getAnnIds()) if a["num_keypoints"] > 0]  # fmt: skip
        evaluation = COCOeval(gt, gt.loadRes(results), "keypoints")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    assert len(results) > 0
    assert evaluation.stats[0] == pytest.approx(1.0)  # AP
    assert evaluation.stats[5] == pytest.approx(1.0)  # AR
