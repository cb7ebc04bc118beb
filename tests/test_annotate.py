"""Pre-labelling photos into Labelme files (`posekit annotate`) and COCO -> Labelme (`posekit convert
coco2labelme`): the files open with posekit's Labelme reader, and converting them back gives exactly the
predictions / the original annotations."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from posekit.cli.main import main
from posekit.convert.prelabel import predicted_shapes
from posekit.io.coco import polygons_bbox
from posekit.io.labelme import read_labelme
from posekit.skeleton import KEYPOINT_NAMES
from posekit.types import PoseResult
from tests.test_pipeline_cli import fake_models  # noqa: F401  (fixture)


def _coco(folder: Path) -> dict:
    """`posekit convert labelme` of a folder: its train and val documents as one (images, annotations)."""
    coco = folder.parent / f"{folder.name}-coco"
    assert main(["convert", "labelme", "--input", str(folder), "--output", str(coco), "--ratio", "0.5"]) == 0
    splits = [
        json.loads((coco / f"coco/annotations/person_keypoints_{s}2017.json").read_text())
        for s in ("train", "val")
    ]
    return {key: [item for split in splits for item in split[key]] for key in ("images", "annotations")}


def _people_by_image(document: dict) -> dict[str, list[dict]]:
    names = {image["id"]: image["file_name"] for image in document["images"]}
    people: dict[str, list[dict]] = {name: [] for name in names.values()}
    for annotation in sorted(document["annotations"], key=lambda a: a["id"]):
        people[names[annotation["image_id"]]].append(annotation)
    return people


def _kept(result: PoseResult, k: int, thr: float, image: Path) -> np.ndarray:
    """Which keypoints of person k a pre-label keeps: score >= thr, inside the image."""
    from PIL import Image

    width, height = Image.open(image).size
    points = result.keypoints[k]
    inside = (points >= 0).all(axis=1) & (points[:, 0] <= width) & (points[:, 1] <= height)
    return (result.keypoint_scores[k] >= thr) & inside


def _two_people() -> PoseResult:
    keypoints = np.tile(np.linspace(10, 90, 17)[:, None], (2, 1, 2)).astype(np.float64)
    keypoints[1] += 100
    scores = np.full((2, 17), 0.9)
    scores[0, 3] = 0.39  # below the threshold
    keypoints[0, 4] = [-2.0, 50.0]  # outside the image
    keypoints[1, 5] = [np.nan, 3.0]  # not a position
    boxes = np.array([[20.0, 5.0, 60.0, 80.0], [110.0, 110.0, 150.0, 260.0]])
    return PoseResult(boxes, np.array([0.9, 0.8]), keypoints, scores, np.array([2.5, 2.4]))


def test_predicted_shapes_are_the_confident_points_inside_the_image_and_their_outline():
    shapes = predicted_shapes(
        _two_people(), KEYPOINT_NAMES, width=200, height=250, kpt_thr=0.4, first_group_id=3
    )
    first = [s for s in shapes if s["group_id"] == 3]
    second = [s for s in shapes if s["group_id"] == 4]
    assert [s["label"] for s in first] == ["person"] + [
        n for i, n in enumerate(KEYPOINT_NAMES) if i not in (3, 4)
    ]
    assert [s["label"] for s in second] == ["person"] + [n for i, n in enumerate(KEYPOINT_NAMES) if i != 5]
    assert all(s["shape_type"] == "point" and s["description"] == "score 0.900" for s in first[1:])
    # the outline holds the box and every kept point, clipped to the image (the second reaches y 250)
    assert first[0]["points"] == [[10.0, 5.0], [90.0, 5.0], [90.0, 90.0], [10.0, 90.0]]
    assert second[0]["points"] == [[110.0, 110.0], [190.0, 110.0], [190.0, 250.0], [110.0, 250.0]]
    assert first[1]["points"] == [[10.0, 10.0]]


def _annotated(images: Path, tmp_path: Path, *flags: str) -> Path:
    out = tmp_path / "labelme"
    assert main(["annotate", "--indir", str(images), "--output", str(out), *flags]) == 0
    return out


def test_annotate_then_convert_gives_the_predictions(coco_mini, tmp_path, fake_models):  # noqa: F811
    import posekit

    images = coco_mini / "val2017"
    out = _annotated(images, tmp_path, "--kpt_thr", "0.6")
    pipe = posekit.load()
    back = _people_by_image(_coco(out))
    assert sorted(back) == sorted(p.name for p in images.iterdir())
    for name, people in back.items():
        document = read_labelme(out / f"{Path(name).stem}.json")
        assert document.image.path == out / name and (out / name).read_bytes() == (images / name).read_bytes()
        expected = pipe(images / name)
        assert len(people) == len(expected) > 0
        for k, person in enumerate(people):
            kps = np.asarray(person["keypoints"], dtype=np.float64).reshape(17, 3)
            kept = _kept(expected, k, 0.6, images / name)
            np.testing.assert_array_equal(kps[kept, :2], expected.keypoints[k][kept])
            assert (kps[kept, 2] == 2).all() and (kps[~kept] == 0).all()
            corners = np.concatenate([expected.keypoints[k][kept], expected.boxes[k].reshape(2, 2)])
            low, high = corners.min(axis=0), corners.max(axis=0)
            np.testing.assert_allclose(person["bbox"], [*low, *(high - low)], atol=1e-6)


def test_the_default_model_pre_labels_real_photos(coco_mini, tmp_path):
    """With the embedded default model through the Python API: every image gets a file the converter
    takes, with the keypoints the same model gives the image on its own."""
    import posekit

    images = coco_mini / "val2017"
    summary = posekit.annotate(images, tmp_path / "out")
    assert len(summary.written) == 4 and summary.people > 0 and not summary.failed
    pipe = posekit.load()
    back = _people_by_image(_coco(tmp_path / "out"))
    for name, people in back.items():
        expected = pipe(images / name)
        assert len(people) == len(expected)
        for k, person in enumerate(people):
            kps = np.asarray(person["keypoints"], dtype=np.float64).reshape(17, 3)
            kept = _kept(expected, k, 0.4, images / name)
            np.testing.assert_allclose(kps[kept, :2], expected.keypoints[k][kept], atol=1e-3)
    assert summary.points == sum(
        int((np.asarray(p["keypoints"])[2::3] > 0).sum()) for ps in back.values() for p in ps
    )


def test_existing_files_are_kept_skipped_merged_or_replaced_as_asked(
    coco_mini,
    tmp_path,
    fake_models,  # noqa: F811
    capsys,
):
    images = tmp_path / "photos"
    shutil.copytree(coco_mini / "val2017", images)
    first, second = sorted(images.glob("*.jpg"))[:2]
    hand_made = {
        "version": "5.2.1",
        "flags": {"reviewed": True},
        "shapes": [
            {"label": "person", "points": [[1, 1], [40, 1], [40, 60], [1, 60]], "group_id": 7,
             "description": "by hand", "shape_type": "polygon", "flags": {}, "mask": None},
            {"label": "nose", "points": [[20.5, 10.25]], "group_id": 7, "shape_type": "point", "flags": {}},
            {"label": "tree", "points": [[5, 5], [9, 9]], "group_id": None, "shape_type": "line"},
        ],
        "imagePath": first.name,
        "imageData": None,
        "imageHeight": 999,
        "imageWidth": 999,
    }  # fmt: skip
    (images / f"{first.stem}.json").write_text(json.dumps(hand_made))
    assert main(["annotate", "--indir", str(images)]) == 1  # without a mode nothing is touched
    assert "1 of the 4 images already have a Labelme file" in capsys.readouterr().err
    assert fake_models == {}  # refused before any model was loaded
    assert json.loads((images / f"{first.stem}.json").read_text()) == hand_made
    assert not (images / f"{second.stem}.json").exists()

    assert main(["annotate", "--indir", str(images), "--only-missing"]) == 0
    assert json.loads((images / f"{first.stem}.json").read_text()) == hand_made
    assert len(list(images.glob("*.json"))) == 4

    assert main(["annotate", "--indir", str(images), "--merge"]) == 0
    merged = json.loads((images / f"{first.stem}.json").read_text())
    assert {k: v for k, v in merged.items() if k != "shapes"} == {
        k: v for k, v in hand_made.items() if k != "shapes"
    }
    kept = merged["shapes"][: len(hand_made["shapes"])]
    assert [json.dumps(s) for s in kept] == [json.dumps(s) for s in hand_made["shapes"]]
    added = merged["shapes"][len(hand_made["shapes"]) :]
    assert added and {s["group_id"] for s in added} <= set(range(8, 8 + len(added)))
    # a predicted person over the hand-made one (its box overlaps it) is not added again
    boxes = [np.reshape(s["points"], (-1, 2)) for s in added if s["label"] == "person"]
    assert all(b[:, 0].min() > 40 or b[:, 1].min() > 60 or b[:, 0].max() - b[:, 0].min() > 160 for b in boxes)

    before = (images / f"{second.stem}.json").read_bytes()
    (images / f"{second.stem}.json").write_text("{}")
    assert main(["annotate", "--indir", str(images), "--overwrite"]) == 0
    assert (images / f"{second.stem}.json").read_bytes() == before
    assert json.loads((images / f"{first.stem}.json").read_text())["flags"] == {}


def test_an_unreadable_photo_is_skipped_counted_and_the_others_written(
    coco_mini,
    tmp_path,
    fake_models,  # noqa: F811
    capsys,
):
    images = tmp_path / "photos"
    shutil.copytree(coco_mini / "val2017", images)
    (images / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    assert main(["annotate", "--indir", str(images), "--output", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "skipped 1 image(s)" in err and "broken.jpg" in err
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.json")) == sorted(
        p.stem for p in (coco_mini / "val2017").iterdir()
    )
    assert not list((tmp_path / "out").glob("*.tmp*"))


def test_embedded_image_data_is_the_photo(coco_mini, tmp_path, fake_models):  # noqa: F811
    import base64

    out = _annotated(coco_mini / "val2017", tmp_path, "--embed_image")
    for path in out.glob("*.json"):
        data = json.loads(path.read_text())
        assert base64.b64decode(data["imageData"]) == (out / data["imagePath"]).read_bytes()


def test_coco_to_labelme_and_back_gives_the_annotations(coco_mini, tmp_path):
    ann_path = coco_mini / "annotations/person_keypoints_val2017.json"
    out = tmp_path / "labelme"
    assert (
        main(
            [
                "convert",
                "coco2labelme",
                str(ann_path),
                "--images",
                str(coco_mini / "val2017"),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    original = json.loads(ann_path.read_text())
    expected = _people_by_image(original)
    expected = {name: [a for a in people if not a.get("iscrowd")] for name, people in expected.items()}
    back = _people_by_image(_coco(out))
    assert sorted(back) == sorted(expected)
    for name, people in back.items():
        assert len(people) == len(expected[name])
        for mine, theirs in zip(people, expected[name]):
            assert mine["keypoints"] == pytest.approx(theirs["keypoints"])  # visibility 1/2 included
            polygons = [p for p in theirs["segmentation"] if len(p) >= 6] or None
            if polygons:
                assert len(mine["segmentation"]) == len(polygons)
                for got, want in zip(mine["segmentation"], polygons):
                    np.testing.assert_allclose(got, want)
                assert mine["bbox"] == pytest.approx(polygons_bbox(polygons))
            else:
                assert mine["bbox"] == pytest.approx(theirs["bbox"])
    from posekit.convert.coco_labelme import coco_to_labelme

    again = coco_to_labelme(ann_path, coco_mini / "val2017", out)  # a re-run keeps what is there
    assert again.written == [] and len(again.kept) == 4
    assert len(coco_to_labelme(ann_path, coco_mini / "val2017", out, overwrite=True).written) == 4


def test_ui_pre_labels_as_the_cli_does(coco_mini, tmp_path, fake_models, request):  # noqa: F811
    """The Convert tab's pre-labelling writes the files `posekit annotate` writes (its output folder
    inside the UI's root)."""
    pytest.importorskip("gradio")
    from posekit.ui import common, tab_convert

    common.set_root(tmp_path)
    request.addfinalizer(common._ROOT.clear)
    images = coco_mini / "val2017"
    report = tab_convert.run_prelabel(
        str(images), "ui", "blazepose", "Replace existing files", 0.5, lambda *a, **k: None
    )
    assert "8 people" in report and "4 file(s) written" in report
    cli = tmp_path / "cli"
    assert main(["annotate", "--indir", str(images), "--output", str(cli), "--kpt_thr", "0.5"]) == 0
    for path in sorted(cli.glob("*.json")):
        assert json.loads((tmp_path / "ui" / path.name).read_text()) == json.loads(path.read_text())


def test_coco_images_with_one_base_name_in_several_folders_keep_a_file_each(posetrack_mini, tmp_path):
    """PoseTrack names every first frame images/val/<video>/000000.jpg: each still gets its own file."""
    from posekit.convert.coco_labelme import coco_to_labelme

    ann = posetrack_mini / "annotations/test_posetrack18_val.json"
    summary = coco_to_labelme(ann, posetrack_mini, tmp_path / "out")
    assert len(summary.written) == 3 and not summary.skipped and not summary.kept
    for path in summary.written:
        document = json.loads(path.read_text())
        image = tmp_path / "out" / document["imagePath"]
        assert path.stem == image.stem and image.is_file() and document["shapes"]


def test_merge_skips_a_hand_made_person_with_broken_points(coco_mini, tmp_path, fake_models):  # noqa: F811
    images = tmp_path / "photos"
    shutil.copytree(coco_mini / "val2017", images)
    first = sorted(images.glob("*.jpg"))[0]
    broken = {
        "shapes": [{"label": "person", "points": [["a", "b"], None, [1e400, 2]], "shape_type": "polygon"}]
    }
    (images / f"{first.stem}.json").write_text(json.dumps(broken).replace("Infinity", "1e400"))
    assert main(["annotate", "--indir", str(images), "--merge"]) == 0
    merged = json.loads((images / f"{first.stem}.json").read_text())
    assert merged["shapes"][0]["points"][0] == ["a", "b"] and len(merged["shapes"]) > 1


def test_a_symlink_where_an_image_goes_is_never_written_through(tmp_path):
    from posekit.convert.coco_labelme import place_image

    source = tmp_path / "a.jpg"
    source.write_bytes(b"x")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.jpg").symlink_to(tmp_path / "elsewhere.jpg")
    assert "symbolic link" in place_image(source, tmp_path / "out" / "a.jpg")
    assert not (tmp_path / "elsewhere.jpg").exists()
