"""Property tests: random Labelme documents convert or are skipped with a reason; nothing crashes."""

from __future__ import annotations

import base64
import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycocotools.coco import COCO

from posekit.convert import convert_labelme
from posekit.errors import PosekitError
from posekit.io.labelme import LabelmeDocument, LabelmeError, read_labelme
from posekit.skeleton import KEYPOINT_NAMES
from tests.test_convert_labelme import H, W, write_image

_PNG = None


def png_bytes() -> bytes:
    global _PNG
    if _PNG is None:
        with tempfile.TemporaryDirectory() as tmp:
            _PNG = write_image(Path(tmp) / "x.png").read_bytes()
    return _PNG


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
coordinates = st.one_of(
    st.floats(min_value=-5, max_value=max(W, H) + 5),
    st.integers(min_value=0, max_value=H),
    st.sampled_from([math.nan, math.inf, "3", None, True]),
)
points = st.one_of(
    st.lists(st.lists(coordinates, min_size=2, max_size=2), min_size=1, max_size=6),
    st.lists(st.lists(coordinates, max_size=3), max_size=3),
    json_values,
)
shapes = st.fixed_dictionaries(
    {
        "label": st.sampled_from([*KEYPOINT_NAMES, "person", "person", "Left Eye", "hand", ""]) | json_values,
        "points": points,
    },
    optional={
        "group_id": st.none() | st.integers(min_value=0, max_value=3) | json_values,
        "shape_type": st.sampled_from(["polygon", "point", "rectangle", "line", None]) | json_values,
        "flags": st.fixed_dictionaries({"occluded": st.booleans()}) | json_values,
        "description": st.sampled_from(["occluded", "", None]),
    },
)
documents = st.fixed_dictionaries(
    {"shapes": st.lists(shapes | json_values, max_size=12)},
    optional={
        "imagePath": st.sampled_from(["img.jpg", "missing.jpg", "../img.jpg", "", "sub\\..\\img.jpg"])
        | json_values,
        "imageData": st.sampled_from(["embedded", "!!notbase64", ""]) | json_values,
        "imageWidth": st.sampled_from([W, 10]) | json_values,
        "imageHeight": st.sampled_from([H, 10]),
        "version": st.sampled_from(["3.16.7", "5.4.1"]),
    },
)
# Well-formed documents, some with one fault, so that many convert and every grouping rule gets exercised.
FAULTS = [
    "none",
    "none",
    "none",
    "orphan",
    "duplicate",
    "outside",
    "unknown",
    "no_group",
    "two_point_polygon",
]


@st.composite
def faulty_documents(draw) -> tuple[dict, str, int, int]:
    """(document, fault, people, labelled keypoints); a fault hits one keypoint or the first polygon."""
    xs, ys = st.floats(min_value=0, max_value=W), st.floats(min_value=0, max_value=H)
    people = draw(st.integers(min_value=1, max_value=3))
    shapes, points = [], []
    for group_id in range(1, people + 1):
        polygon = draw(st.lists(st.tuples(xs, ys).map(list), min_size=3, max_size=6))
        shapes.append({"label": "person", "points": polygon, "group_id": group_id, "shape_type": "polygon"})
        for name in draw(st.lists(st.sampled_from(KEYPOINT_NAMES), min_size=1, max_size=17, unique=True)):
            points.append({"label": name, "points": [[draw(xs), draw(ys)]], "group_id": group_id,
                           "shape_type": "point", "flags": {"occluded": draw(st.booleans())}})  # fmt: skip
    fault = draw(st.sampled_from(FAULTS))
    labelled = len(points)
    target = points[-1]
    if fault == "orphan":
        target["group_id"] = 9
    elif fault == "duplicate":
        points.append(dict(target))
    elif fault == "outside":
        target["points"] = [[W + 1, 0]]
    elif fault == "unknown":
        target["label"] = "tail"
    elif fault == "no_group":
        target["group_id"] = None
    elif fault == "two_point_polygon":
        shapes[0]["points"] = shapes[0]["points"][:2]
    shapes += points
    draw(st.randoms()).shuffle(shapes)
    doc = {"shapes": shapes, "imagePath": "img.jpg", "imageData": None, "imageWidth": W, "imageHeight": H}
    return doc, fault, people, labelled


def plausible_documents() -> st.SearchStrategy[dict]:
    return faulty_documents().map(lambda drawn: drawn[0])


file_contents = st.one_of(
    plausible_documents(),
    plausible_documents(),
    plausible_documents(),
    documents,
    json_values,
    st.binary(max_size=30),
)


def write_content(folder: Path, name: str, content) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
        return path
    if isinstance(content, dict) and content.get("imageData") == "embedded":
        content = {**content, "imageData": base64.b64encode(png_bytes()).decode()}
    path.write_text(json.dumps(content))
    return path


def check_document(doc: LabelmeDocument) -> None:
    for person in doc.persons:
        assert len(person.keypoints) == 17 and person.polygons
        for x, y, v in person.keypoints:
            assert v in (0, 1, 2)
            assert 0 <= x <= doc.image.width and 0 <= y <= doc.image.height
            assert v > 0 or (x, y) == (0, 0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=file_contents)
def test_random_documents_are_read_or_rejected_with_a_reason(content):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        write_image(folder / "img.jpg")
        path = write_content(folder, "a.json", content)
        try:
            doc = read_labelme(path, folder)
        except LabelmeError as exc:
            assert exc.reason and str(exc).startswith(str(path))
        else:
            check_document(doc)


@settings(max_examples=150, deadline=None)
@given(drawn=faulty_documents())
def test_each_fault_is_found_and_clean_documents_keep_every_point(drawn):
    content, fault, people, labelled = drawn
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_image(folder / "img.jpg")
        path = write_content(folder, "a.json", content)
        if fault == "none" or (fault == "no_group" and people == 1):
            doc = read_labelme(path, folder)
            assert len(doc.persons) == people
            assert sum(1 for p in doc.persons for k in p.keypoints if k[2] > 0) == labelled
        else:
            try:
                read_labelme(path, folder)
            except LabelmeError as exc:
                assert exc.reason
            else:
                raise AssertionError(f"fault {fault!r} was not reported")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents=st.lists(file_contents, min_size=1, max_size=5))
def test_random_folders_convert_or_skip_every_file(contents):
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        write_image(folder / "img.jpg")
        for i, content in enumerate(contents):
            write_content(folder, f"{i}.json", content)
        try:
            summary = convert_labelme(folder, Path(tmp) / "out", ratio=0.5)
        except PosekitError as exc:
            assert str(exc).startswith(f"none of the {len(contents)} Labelme files can be converted")
            assert not (Path(tmp) / "out").exists()
            return
        assert len(summary.converted) + len(summary.skipped) == len(contents)
        assert all(s.reason for s in summary.skipped)
        ids = []
        for split in ("train", "val"):
            gt = COCO(str(summary.coco_root / "annotations" / f"person_keypoints_{split}2017.json"))
            ids += gt.getAnnIds()
            for image in gt.dataset["images"]:
                assert (summary.coco_root / f"{split}2017" / image["file_name"]).is_file()
        assert len(ids) == len(set(ids)) == summary.num_people
