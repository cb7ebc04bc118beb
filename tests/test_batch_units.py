"""What a batch's units are (no Ray needed): each video, each folder of images and each image named by
folders, files, globs and list files, with output paths that mirror the inputs; and the one line a
machine without Ray gets."""

from __future__ import annotations

import shutil
import sys

import pytest

from posekit.batching import find_units
from posekit.errors import PosekitError

CLIP = "videos/000001_mpiinew_test"


@pytest.fixture
def collection(posetrack_mini, coco_mini, tmp_path):
    root = tmp_path / "clips"
    root.mkdir()
    video = posetrack_mini / CLIP / "000001_mpiinew_test.mp4"
    for name in ("a.mp4", "b.mp4", "broken.mp4", "long.mp4"):
        shutil.copy(video, root / name)
    shutil.copytree(coco_mini / "val2017", root / "photos")
    return root


def test_units_mirror_the_inputs(collection, tmp_path):
    listed = tmp_path / "list.txt"
    listed.write_text(f"# two clips\n{collection / 'a.mp4'}\n{collection / 'b.mp4'}\nmissing.mp4\n")
    units, problems = find_units([collection])
    assert [(u.kind, u.rel) for u in units] == [
        ("video", "clips/a.mp4"),
        ("video", "clips/b.mp4"),
        ("video", "clips/broken.mp4"),
        ("video", "clips/long.mp4"),
        ("images", "clips/photos"),
    ]
    assert problems == []
    units, problems = find_units([listed, str(collection / "*.jpg")])
    assert [u.rel for u in units] == ["a.mp4", "b.mp4"]
    assert problems == [
        (str(tmp_path / "missing.mp4"), "not found"),
        (str(collection / "*.jpg"), "the pattern matches nothing"),
    ]


def test_the_output_folder_inside_an_input_folder_is_not_an_input(collection):
    (collection / "out" / "photos" / "vis").mkdir(parents=True)
    shutil.copy(collection / "photos" / "000000000785.jpg", collection / "out" / "photos" / "vis")
    units, _ = find_units([collection], exclude=collection / "out")
    assert [u.rel for u in units] == [
        "clips/a.mp4",
        "clips/b.mp4",
        "clips/broken.mp4",
        "clips/long.mp4",
        "clips/photos",
    ]


def test_without_ray_batch_says_how_to_get_it(collection, tmp_path, monkeypatch):
    from posekit.batching import run_batch

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(PosekitError, match=r"pip install 'posekit\[ray\]'"):
        run_batch([collection / "a.mp4"], tmp_path / "out")


def test_inputs_inside_the_output_folder_and_urls_are_refused_by_name(collection, tmp_path):
    units, problems = find_units([collection, "s3://bucket/clips/a.mp4"], exclude=collection.parent)
    assert units == []
    assert problems == [
        (str(collection), f"lies inside the output folder {collection.parent}: choose an --outdir outside "
         "the inputs"),
        ("s3://bucket/clips/a.mp4", "object-store and web URLs are not read directly: mount the bucket (e.g. "
         "s3fs, gcsfuse) on every node and give its path"),
    ]  # fmt: skip


def test_workers_fit_the_gpus_they_ask_for():
    from posekit.batching.driver import BatchOptions, _worker_count

    assert _worker_count({"CPU": 16.0, "GPU": 1.0}, BatchOptions(gpus_per_worker=0.5), 100) == (2, 16)
    assert _worker_count({"CPU": 16.0}, BatchOptions(), 100) == (16, 16)
    assert _worker_count({"CPU": 16.0}, BatchOptions(), 3) == (3, 16)
    with pytest.raises(PosekitError, match="has 0 GPU"):
        _worker_count({"CPU": 16.0}, BatchOptions(gpus_per_worker=1.0), 100)
    with pytest.raises(PosekitError, match="need 4 GPUs; the Ray cluster has 2"):
        _worker_count({"CPU": 16.0, "GPU": 2.0}, BatchOptions(workers=4, gpus_per_worker=1.0), 100)


def test_a_unit_commit_keeps_a_nested_units_outputs(tmp_path):
    """A folder of images with a subfolder `vis/` of images: both are units, and the parent's renderings
    in OUT/<rel>/vis/ merge with the child unit's outputs instead of replacing them."""
    from posekit.batching.outputs import commit, unit_complete

    final = tmp_path / "out" / "photos"
    child = tmp_path / "stage-child"
    (child / "vis").mkdir(parents=True)
    (child / "alphapose-results.json").write_text("[]")
    (child / "vis" / "inner.jpg").write_bytes(b"child")
    commit(child, final / "vis")
    parent = tmp_path / "stage-parent"
    (parent / "vis").mkdir(parents=True)
    (parent / "vis" / "outer.jpg").write_bytes(b"parent")
    (parent / "alphapose-results.json").write_text('[{"image_id": "outer.jpg"}]')
    commit(parent, final)
    assert (final / "vis" / "outer.jpg").read_bytes() == b"parent"
    assert unit_complete(final / "vis", save_video=False) and unit_complete(final, save_video=False)
    assert (final / "vis" / "vis" / "inner.jpg").read_bytes() == b"child"


def test_a_patterns_matches_are_checked_as_if_named(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a.jpg", "b.mp4", "notes.md"):
        (clips / name).write_bytes(b"")
    (clips / "more.txt").write_text(f"{tmp_path / 'c.mov'}\n")
    (tmp_path / "c.mov").write_bytes(b"")
    units, problems = find_units([str(clips / "*")])
    assert [(u.kind, u.rel) for u in units] == [
        ("image", "clips/a.jpg"),
        ("video", "clips/b.mp4"),
        ("video", "c.mov"),
    ]
    assert problems == [
        (str(clips / "notes.md"), "not a video (.mp4, .avi, .mov, .mkv, .webm, .m4v, .mpg, .mpeg, .wmv, "
         ".flv, .ts), image or list file"),
    ]  # fmt: skip
    units, problems = find_units([clips / "notes.md", "/dev/null"])
    assert units == []
    assert [path for path, _ in problems] == [str(clips / "notes.md"), "/dev/null"]
