"""The conversion job (posekit.convert), `posekit convert labelme` and the seed script."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from devkit.shared_data import REPO
from posekit.cli.main import main
from posekit.convert import convert_labelme, plan_conversion
from posekit.convert.names import UniqueNames, safe_file_name
from posekit.convert.sample import write_sample_labelme
from posekit.convert.split import split_indices, val_count
from posekit.errors import PosekitError
from tests.test_convert_labelme import labelme_doc, person, point, write_doc, write_image


def load(coco_root: Path, split: str) -> dict:
    return json.loads((coco_root / "annotations" / f"person_keypoints_{split}2017.json").read_text("utf-8"))


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("labelme")
    write_sample_labelme(folder, count=20, seed=1)
    return folder


def test_seed_example_20_files_16_train_4_val(samples, tmp_path):
    summary = convert_labelme(samples, tmp_path, ratio=0.2, seed=0)
    assert (summary.count("train"), summary.count("val"), summary.skipped) == (16, 4, [])
    coco_root = tmp_path / "coco"
    assert files_in(coco_root) == ["annotations", "train2017", "val2017"]
    train, val = load(coco_root, "train"), load(coco_root, "val")
    images = train["images"] + val["images"]
    annotations = train["annotations"] + val["annotations"]
    assert [im["id"] for im in images] == list(range(1, 21))
    assert [a["id"] for a in annotations] == list(range(1, len(annotations) + 1))
    assert len(annotations) == summary.num_people
    for split, doc in (("train", train), ("val", val)):
        assert files_in(coco_root / f"{split}2017") == sorted(im["file_name"] for im in doc["images"])
        ids = {im["id"] for im in doc["images"]}
        assert all(a["image_id"] in ids for a in doc["annotations"])
        for im in doc["images"]:
            assert im["coco_url"] == f"./{split}2017/{im['file_name']}"
            source, target = samples / im["file_name"], coco_root / f"{split}2017" / im["file_name"]
            assert target.read_bytes() == source.read_bytes()  # never re-encoded
            assert target.stat().st_ino == source.stat().st_ino  # hard link on the same file system
    assert {Path(im["file_name"]).suffix for im in images} == {".jpg", ".png"}


def test_keypoints_visibility_and_counts_match_the_labelme_files(samples, tmp_path):
    summary = convert_labelme(samples, tmp_path, ratio=0.2, seed=0)
    by_name = {item.file_name: item.json_path for item in summary.converted}
    doc = load(tmp_path / "coco", "train")
    anns = {}
    for a in doc["annotations"]:
        anns.setdefault(a["image_id"], []).append(a)
    seen_occluded = seen_missing = False
    for im in doc["images"]:
        shapes = json.loads(by_name[im["file_name"]].read_text())["shapes"]
        polygons = [s for s in shapes if s["label"] == "person"]
        assert len(anns[im["id"]]) == len(polygons)
        for ann, polygon in zip(anns[im["id"]], polygons):
            assert ann["segmentation"] == [[v for p in polygon["points"] for v in p]]
            xs = [p[0] for p in polygon["points"]]
            assert ann["bbox"][0] == min(xs) and ann["bbox"][2] == pytest.approx(max(xs) - min(xs), abs=1e-6)
            expected = [[0, 0, 0] for _ in range(17)]
            from posekit.skeleton import KEYPOINT_INDEX

            for s in shapes:
                if s["label"] != "person" and s["group_id"] == polygon["group_id"]:
                    x, y = s["points"][0]
                    expected[KEYPOINT_INDEX[s["label"]]] = [x, y, 1 if s["flags"].get("occluded") else 2]
            assert ann["keypoints"] == [v for k in expected for v in k]
            assert ann["num_keypoints"] == sum(1 for k in expected if k[2] > 0)
            seen_occluded |= any(k[2] == 1 for k in expected)
            seen_missing |= any(k[2] == 0 for k in expected)
    assert seen_occluded and seen_missing


@pytest.mark.parametrize(
    "n,ratio,expected", [(20, 0.2, 4), (2, 0.2, 1), (2, 0.9, 1), (10, 0.25, 3), (1, 0.5, 0)]
)
def test_val_count(n, ratio, expected):
    assert val_count(n, ratio) == expected


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.1, 1.5])
def test_ratio_outside_0_1_is_an_error(samples, tmp_path, ratio):
    with pytest.raises(PosekitError, match="--ratio must be between 0 and 1"):
        convert_labelme(samples, tmp_path, ratio=ratio)
    assert not (tmp_path / "coco").exists()


def test_split_is_deterministic_per_seed():
    assert split_indices(20, 0.2, 5) == split_indices(20, 0.2, 5)
    assert split_indices(20, 0.2, 5) != split_indices(20, 0.2, 6)
    train, val = split_indices(20, 0.2, 5)
    assert sorted(train + val) == list(range(20)) and len(val) == 4


def test_same_seed_gives_the_same_files_in_val(samples, tmp_path):
    a = convert_labelme(samples, tmp_path / "a", seed=3)
    b = convert_labelme(samples, tmp_path / "b", seed=3)
    assert [i.file_name for i in a.converted] == [i.file_name for i in b.converted]
    assert load(tmp_path / "a" / "coco", "val") == load(tmp_path / "b" / "coco", "val")


def test_bad_files_are_skipped_with_reasons(tmp_path):
    inp = tmp_path / "in"
    for i in range(3):
        write_doc(
            inp, labelme_doc([person(), point("nose", 20, 20)], f"img{i}.jpg"), f"ok{i}.json", f"img{i}.jpg"
        )
    write_doc(inp, labelme_doc([person(), point("tail", 20, 20)]), "bad_label.json")
    (inp / "broken.json").write_text("{")
    progress = []
    summary = convert_labelme(inp, tmp_path / "out", ratio=0.5, progress=progress.append)
    assert len(progress) == 5 and len(summary.converted) == 3
    assert [(s.path.name, s.reason) for s in summary.skipped] == [
        ("bad_label.json", "shape 1: unknown label 'tail' (expected 'person' or a COCO keypoint name)"),
        ("broken.json", summary.skipped[1].reason),
    ]
    assert summary.skipped[1].reason.startswith("not valid JSON")
    coco_root = tmp_path / "out" / "coco"
    names = files_in(coco_root / "train2017") + files_in(coco_root / "val2017")
    assert sorted(names) == ["img0.jpg", "img1.jpg", "img2.jpg"]


def test_strict_writes_nothing(tmp_path):
    write_doc(tmp_path / "in", labelme_doc([person(), point("nose", 20, 20)]), "ok.json")
    write_doc(tmp_path / "in", labelme_doc([person(), point("nose", 99, 20)], "b.jpg"), "bad.json", "b.jpg")
    with pytest.raises(
        PosekitError, match=r"1 of 2 Labelme files have problems, nothing written \(--strict\)"
    ):
        convert_labelme(tmp_path / "in", tmp_path / "out", strict=True)
    assert not (tmp_path / "out").exists()


def test_no_usable_file_is_an_error_and_keeps_the_old_output(samples, tmp_path):
    convert_labelme(samples, tmp_path / "out")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.json").write_text("{}")
    with pytest.raises(PosekitError, match="none of the 1 Labelme files can be converted, nothing written"):
        convert_labelme(tmp_path / "bad", tmp_path / "out")
    assert len(load(tmp_path / "out" / "coco", "train")["images"]) == 16


def test_rerun_replaces_the_output_cleanly(samples, tmp_path):
    convert_labelme(samples, tmp_path, seed=0)
    (tmp_path / "coco" / "train2017" / "stale.jpg").write_bytes(b"old")
    smaller = tmp_path / "smaller"
    write_sample_labelme(smaller, count=5, seed=9)
    summary = convert_labelme(smaller, tmp_path, seed=1)
    coco_root = tmp_path / "coco"
    assert files_in(coco_root) == ["annotations", "train2017", "val2017"]  # no staging or trash folders
    written = files_in(coco_root / "train2017") + files_in(coco_root / "val2017")
    assert sorted(written) == sorted(i.file_name for i in summary.converted) and len(written) == 5
    assert len(load(coco_root, "train")["images"]) + len(load(coco_root, "val")["images"]) == 5
    assert files_in(coco_root / "annotations") == [
        "person_keypoints_train2017.json",
        "person_keypoints_val2017.json",
    ]


def test_unwritable_output_is_one_clear_error(samples, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(PosekitError, match="cannot write the converted data"):
        convert_labelme(samples, tmp_path / "file" / "out")


def test_leftovers_of_an_interrupted_run_are_removed(samples, tmp_path):
    (tmp_path / "coco" / ".train2017.abc123").mkdir(parents=True)
    convert_labelme(samples, tmp_path)
    assert files_in(tmp_path / "coco") == ["annotations", "train2017", "val2017"]


def test_two_inputs_with_the_same_image_name(tmp_path):
    inp = tmp_path / "in"
    write_image(inp / "a" / "img.jpg", 64, 48)
    write_image(inp / "b" / "IMG.JPG", 64, 48)
    write_doc(inp, labelme_doc([person()], "a/img.jpg"), "1.json", image=None)
    write_doc(inp, labelme_doc([person()], "b/IMG.JPG"), "2.json", image=None)
    summary = convert_labelme(inp, tmp_path / "out", ratio=0.5)
    assert sorted(i.file_name for i in summary.converted) == ["IMG_2.jpg", "img.jpg"]
    coco_root = tmp_path / "out" / "coco"
    for item in summary.converted:
        source = inp / ("a/img.jpg" if item.json_path.name == "1.json" else "b/IMG.JPG")
        assert (coco_root / f"{item.split}2017" / item.file_name).read_bytes() == source.read_bytes()


def test_output_names_cannot_escape_the_output_folder(tmp_path):
    inp = tmp_path / "in"
    png = write_image(tmp_path / "x.png").read_bytes()
    data = base64.b64encode(png).decode()
    write_doc(inp, labelme_doc([person()], "../../../evil.png", imageData=data), "1.json", image=None)
    write_doc(inp, labelme_doc([person()], "..\\..\\.bashrc.png", imageData=data), "2.json", image=None)
    write_image(inp / "we ird:name?.JPG")
    write_doc(inp, labelme_doc([person()], "we ird:name?.JPG"), "3.json", image=None)
    summary = convert_labelme(inp, tmp_path / "out", ratio=0.4)
    assert sorted(i.file_name for i in summary.converted) == ["bashrc.png", "evil.png", "we_ird_name_.jpg"]
    out = (tmp_path / "out").resolve()
    every = [p.resolve() for p in tmp_path.rglob("*") if p.is_file()]
    assert [p for p in every if not p.is_relative_to(out) and not p.is_relative_to(inp.resolve())] == [
        (tmp_path / "x.png").resolve()
    ]
    embedded = next(i for i in summary.converted if i.file_name == "evil.png")
    assert (out / "coco" / f"{embedded.split}2017" / "evil.png").read_bytes() == png


@pytest.mark.parametrize(
    "name,expected",
    [
        ("../../x.jpg", "x.jpg"),
        ("..\\..\\x.jpg", "x.jpg"),
        (".hidden.PNG", "hidden.png"),
        ("", "image"),
        ("CON.jpg", "_CON.jpg"),
        ("图片 1.JPG", "图片_1.jpg"),
        ("a/b/c d?.webp", "c_d_.webp"),
    ],
)
def test_safe_file_name(name, expected):
    assert safe_file_name(name) == expected


def test_unique_names_ignore_case():
    names = UniqueNames()
    assert [names.take(n) for n in ["a.jpg", "A.jpg", "a.jpg", "a_2.jpg"]] == [
        "a.jpg",
        "A_2.jpg",
        "a_3.jpg",
        "a_2_2.jpg",
    ]


def test_bmp_and_webp_are_kept_as_they_are(tmp_path):
    inp = tmp_path / "in"
    write_doc(inp, labelme_doc([person()], "p.bmp"), "1.json", image="p.bmp")
    write_doc(inp, labelme_doc([person()], "p.webp"), "2.json", image="p.webp")
    summary = convert_labelme(inp, tmp_path / "out", ratio=0.5)
    for item in summary.converted:
        target = tmp_path / "out" / "coco" / f"{item.split}2017" / item.file_name
        assert target.read_bytes() == (inp / item.file_name).read_bytes()


def test_annotations_only(samples, tmp_path):
    summary = convert_labelme(samples, tmp_path, images=False)
    assert files_in(tmp_path / "coco") == ["annotations"] and len(summary.converted) == 20


def test_one_image_goes_to_train_and_val_is_empty(tmp_path):
    write_doc(tmp_path / "in", labelme_doc([person(), point("nose", 20, 20)]), "only.json")
    summary = convert_labelme(tmp_path / "in", tmp_path / "out")
    assert (summary.count("train"), summary.count("val")) == (1, 0)
    val = COCO(str(tmp_path / "out" / "coco" / "annotations" / "person_keypoints_val2017.json"))
    assert val.getImgIds() == []


def test_plan_writes_nothing_and_reports_missing_folders(samples, tmp_path):
    plan = plan_conversion(samples, 0.2, 0)
    assert (len(plan.train), len(plan.val), plan.total) == (16, 4, 20)
    with pytest.raises(PosekitError, match="input folder not found"):
        plan_conversion(tmp_path / "nope")
    with pytest.raises(PosekitError, match=r"no Labelme \.json files found"):
        plan_conversion(tmp_path)


def test_cli_warns_per_bad_file_and_summarizes(tmp_path, capsys):
    write_sample_labelme(tmp_path / "in", count=4)
    (tmp_path / "in" / "broken.json").write_text("[1]")
    code = main(["convert", "labelme", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert code == 0
    assert f"warning: {tmp_path / 'in' / 'broken.json'}: not a Labelme file" in err
    assert out.strip().endswith("; skipped 1 (see warnings above)")
    assert "converted 4 of 5 files (3 train, 1 val" in out and "Person 1 ..." not in out


def test_cli_strict_exits_1_before_writing(tmp_path, capsys):
    write_sample_labelme(tmp_path / "in", count=3)
    (tmp_path / "in" / "broken.json").write_text("[")
    args = [
        "convert",
        "labelme",
        "--input",
        str(tmp_path / "in"),
        "--output",
        str(tmp_path / "out"),
        "--strict",
    ]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "error: 1 of 4 Labelme files have problems" in err
    assert not (tmp_path / "out").exists()


def test_cli_sample_then_verbose_convert(tmp_path, capsys):
    assert main(["convert", "sample", "--output", str(tmp_path / "in"), "--count", "6"]) == 0
    assert main(["convert", "labelme", "--input", str(tmp_path / "in"), "--output", str(tmp_path), "-v"]) == 0
    out = capsys.readouterr().out
    assert out.count("Start annotate for img: ") == 6 and "Person 1 ..." in out


def test_seed_script_prints_the_seed_log(samples, tmp_path):
    script = REPO / "scripts" / "labelme2coco_keypoints.py"
    result = subprocess.run(
        [sys.executable, str(script), f"--input={samples}", f"--output={tmp_path}", "--ratio=0.2"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == ["16 for training", "", "4 for testing", "Start transform please wait ..."]
    first = json.loads((samples / "sample_0001.json").read_text())
    people = sum(1 for s in first["shapes"] if s["label"] == "person")
    announce = f"Start annotate for img: {samples / 'sample_0001.json'} There are {people} people in total"
    at = lines.index(announce)
    assert lines[at + 1 : at + 1 + people] == [f"Person {k} ..." for k in range(1, people + 1)]
    assert sum(1 for line in lines if line.startswith("Start annotate")) == 20
    assert (tmp_path / "coco" / "annotations" / "person_keypoints_train2017.json").is_file()
