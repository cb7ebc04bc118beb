"""COCO keypoint documents (posekit.io.coco): area, bbox, annotations, categories, layout."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

from posekit.io import coco
from posekit.skeleton import COCO_SKELETON_1BASED, KEYPOINT_NAMES


def test_shoelace_area_of_simple_shapes():
    assert coco.polygon_area([0, 0, 4, 0, 4, 3, 0, 3]) == 12.0
    assert coco.polygon_area([0, 0, 0, 3, 4, 3, 4, 0]) == 12.0  # clockwise gives the same
    assert coco.polygon_area([0, 0, 4, 0, 0, 3]) == 6.0
    assert coco.polygon_area([0, 0, 1, 1, 2, 2]) == 0.0


def test_shoelace_area_equals_opencv_on_random_polygons():
    rng = np.random.default_rng(3)
    for _ in range(50):
        poly = rng.uniform(0, 500, (int(rng.integers(3, 20)), 2)).astype(np.float32)
        expected = cv2.contourArea(poly)
        assert coco.polygon_area(poly.ravel().tolist()) == pytest.approx(expected, rel=1e-5, abs=1e-3)


def test_bbox_spans_all_polygons_without_float_noise():
    assert coco.polygons_bbox([[38.08, 110.95, 212.79, 285.66, 40, 200]]) == [38.08, 110.95, 174.71, 174.71]
    assert coco.polygons_bbox([[1, 2, 3, 4, 5, 2], [10, 20, 11, 21, 12, 20]]) == [1, 2, 11, 19]


def test_person_annotation_fields():
    keypoints = [(0, 0, 0)] * 17
    keypoints[0], keypoints[5] = (5.5, 6, 2), (7, 8, 1)
    ann = coco.person_annotation(9, 3, [(0, 0, 10, 0, 10, 20, 0, 20)], keypoints)
    assert ann == {
        "id": 9,
        "image_id": 3,
        "category_id": 1,
        "iscrowd": 0,
        "segmentation": [[0, 0, 10, 0, 10, 20, 0, 20]],
        "area": 200.0,
        "bbox": [0, 0, 10, 20],
        "num_keypoints": 2,
        "keypoints": [5.5, 6, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 8, 1] + [0] * 33,
    }


def test_category_uses_cocos_key_names_and_skeleton():
    category = coco.person_category()
    assert category["keypoints"] == list(KEYPOINT_NAMES) and "keypoint" not in category
    assert category["skeleton"] == COCO_SKELETON_1BASED and category["name"] == "person"


def test_layout_names():
    assert (
        coco.annotation_path("out/coco", "val").as_posix()
        == "out/coco/annotations/person_keypoints_val2017.json"
    )
    assert coco.image_entry(1, "a b.png", 4, 3, "train")["coco_url"] == "./train2017/a b.png"


def test_written_document_loads_in_pycocotools(tmp_path):
    images = [coco.image_entry(1, "图片.jpg", 40, 30, "val")]
    annotations = [coco.person_annotation(1, 1, [(1, 1, 20, 1, 20, 25)], [(5, 5, 2)] * 17)]
    path = tmp_path / "annotations" / "person_keypoints_val2017.json"
    coco.write_coco(path, coco.coco_document(images, annotations))
    assert json.loads(path.read_text("utf-8"))["images"][0]["file_name"] == "图片.jpg"
    api = COCO(str(path))
    assert api.getImgIds() == [1] and api.loadAnns(api.getAnnIds(imgIds=[1]))[0]["num_keypoints"] == 17
    assert api.loadCats(1)[0]["keypoints"][16] == "right_ankle"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
