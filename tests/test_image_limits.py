"""Images are checked against a pixel limit from their header before decoding, and named distinctly:
a bomb header or a huge valid PNG is one skipped image (the run goes on), never a cv2.error."""

from __future__ import annotations

import json
import shutil
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from posekit.cli.common import add_max_pixels
from posekit.cli.main import main
from posekit.errors import PosekitError
from posekit.infer.sources import collect_image_paths, frame_names, image_frames
from posekit.io.images import DEFAULT_MAX_PIXELS, ImageTooLargeError, check_image_pixels, read_image_rgb
from tests.test_pipeline_cli import fake_models  # noqa: F401  (the fake detector and pose model)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(path: Path, width: int, height: int, rows: int | None = None) -> Path:
    """A 1-bit grey PNG of width x height whose pixel data holds `rows` rows (all rows: a valid image;
    fewer: a tiny file whose header lies). Written streaming, so 20000x20000 costs no memory."""
    packer = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    body = b"".join(packer.compress(row) for _ in range(height if rows is None else rows)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")
    )
    return path


def test_a_lying_header_and_a_huge_valid_png_are_refused_before_decoding(tmp_path):
    bomb = png(tmp_path / "bomb.png", 40000, 40000, rows=1)
    assert bomb.stat().st_size < 1000
    with pytest.raises(ImageTooLargeError) as err:
        read_image_rgb(bomb)
    assert str(err.value) == (
        f"{bomb}: image header says 1600000000 pixels (1600 Mpixels), over the limit of 120 Mpixels; "
        "not decoded (raise the limit with --max-pixels)"
    )
    huge = png(tmp_path / "huge.png", 20000, 20000)  # valid: cv2 would decode it into 1.2 GB
    with pytest.raises(
        ImageTooLargeError, match=r"huge\.png: image header says 400000000 pixels \(400 Mpixels\)"
    ):
        read_image_rgb(huge)
    small = png(tmp_path / "small.png", 64, 48)
    assert read_image_rgb(small).shape == (48, 64, 3)
    with pytest.raises(
        ImageTooLargeError,
        match=r"small\.png: image header says 64x48 \(0 Mpixels\), over the limit of 0.001",
    ):
        check_image_pixels(small, max_pixels=1000)
    check_image_pixels(huge, max_pixels=400_000_000)  # a raised limit lets it through
    mid = png(tmp_path / "mid.png", 12000, 11000)  # under PIL's own 2x bomb limit: the size is named
    with pytest.raises(ImageTooLargeError, match=r"mid\.png: image header says 12000x11000 \(132 Mpixels\)"):
        read_image_rgb(mid)


def test_without_a_limit_opencvs_own_refusal_is_one_line(tmp_path):
    bomb = png(tmp_path / "bomb.png", 40000, 40000, rows=1)
    with pytest.raises(PosekitError) as err:
        read_image_rgb(bomb, max_pixels=None)
    assert str(err.value).startswith(f"{bomb}: not a readable image (") and "\n" not in str(err.value)


def test_infer_skips_the_oversized_image_and_writes_the_others(coco_mini, tmp_path, fake_models, capsys):  # noqa: F811
    images = tmp_path / "in"
    shutil.copytree(coco_mini / "val2017", images)
    png(images / "bomb.png", 40000, 40000, rows=1)
    out = tmp_path / "res"
    assert main(["infer", "--indir", str(images), "--outdir", str(out)]) == 0
    assert "bomb.png: image header says 1600000000 pixels" in capsys.readouterr().err
    done = {r["image_id"] for r in json.loads((out / "alphapose-results.json").read_text())}
    assert done == {p.name for p in (coco_mini / "val2017").iterdir()}


def test_list_with_one_base_name_in_two_folders_keeps_names_distinct(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        cv2.imwrite(
            str(tmp_path / folder / "img.jpg"), np.full((8, 8, 3), 40 if folder == "a" else 200, np.uint8)
        )
    (tmp_path / "list.txt").write_text("a/img.jpg\nb/img.jpg\n")
    paths = collect_image_paths(str(tmp_path), str(tmp_path / "list.txt"), None)
    assert frame_names(paths) == ["a__img.jpg", "b__img.jpg"]
    frames = list(image_frames(paths))
    assert [f.name for f in frames] == ["a__img.jpg", "b__img.jpg"]
    assert frames[0].image.mean() < 100 < frames[1].image.mean()  # each name has its own picture
    assert frame_names([tmp_path / "a" / "img.jpg", tmp_path / "b" / "x.jpg"]) == ["img.jpg", "x.jpg"]
    (tmp_path / "a__img.jpg").write_bytes(
        (tmp_path / "a" / "img.jpg").read_bytes()
    )  # a real file of that name
    named = frame_names([*paths, tmp_path / "a__img.jpg"])
    assert named == ["a__img.jpg", "b__img.jpg", "a__img_2.jpg"]


def test_infer_list_keeps_both_results_and_both_rendered_images(coco_mini, tmp_path, fake_models):  # noqa: F811
    source = next((coco_mini / "val2017").iterdir())
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copyfile(source, tmp_path / folder / "img.jpg")
    (tmp_path / "list.txt").write_text("a/img.jpg\nb/img.jpg\n")
    out = tmp_path / "res"
    argv = ["infer", "--indir", str(tmp_path), "--list", str(tmp_path / "list.txt"), "--outdir", str(out)]
    assert main(argv) == 0
    results = json.loads((out / "alphapose-results.json").read_text())
    assert sorted({r["image_id"] for r in results}) == ["a__img.jpg", "b__img.jpg"]
    assert sorted(p.name for p in (out / "vis").iterdir()) == ["a__img.jpg", "b__img.jpg"]


def test_max_pixels_flag(tmp_path):
    import argparse

    parser = argparse.ArgumentParser()
    add_max_pixels(parser)
    assert parser.parse_args([]).max_pixels == DEFAULT_MAX_PIXELS
    assert parser.parse_args(["--max-pixels", "400000000"]).max_pixels == 400_000_000
    assert parser.parse_args(["--max_pixels", "0"]).max_pixels is None
    with pytest.raises(SystemExit):
        parser.parse_args(["--max-pixels", "-5"])


def test_ui_upload_uses_the_same_pixel_limit(tmp_path):
    tab_infer = pytest.importorskip("posekit.ui.tab_infer")
    bomb = png(tmp_path / "bomb.png", 40000, 40000, rows=1)
    with pytest.raises(ImageTooLargeError, match=r"bomb\.png: image header says"):
        tab_infer.copy_uploads([str(bomb)], tmp_path / "out")
    assert not (tmp_path / "out" / "inputs" / "bomb.png").exists()


def test_one_rgb_check_names_the_caller_and_expands_grey_only_when_asked():
    from posekit.io.images import checked_rgb_uint8

    rgb = np.zeros((4, 6, 3), np.uint8)
    assert checked_rgb_uint8(rgb, "yolox") is rgb
    grey = np.arange(24, dtype=np.uint8).reshape(4, 6)
    np.testing.assert_array_equal(checked_rgb_uint8(grey, "image", grey=True), np.stack([grey] * 3, axis=2))
    expected = r"expected an RGB uint8 array \(H, W, 3\), got"
    with pytest.raises(PosekitError, match=rf"^yolox: {expected} shape \(4, 6\)$"):
        checked_rgb_uint8(grey, "yolox")
    with pytest.raises(PosekitError, match=rf"^item 2: {expected} float32$"):
        checked_rgb_uint8(rgb.astype(np.float32), "item 2", grey=True)
    with pytest.raises(PosekitError, match=rf"^image: {expected} list$"):
        checked_rgb_uint8([1, 2], "image")
