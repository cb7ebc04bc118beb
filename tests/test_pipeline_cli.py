"""`posekit infer` and scripts/demo_inference.py: flags, outputs, messages and bad inputs (fake models)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from posekit.cli.main import main
from tests.pipeline_fakes import FakeDetector, FakePoseModel

REPO = Path(__file__).resolve().parents[1]
MP4 = "videos/000001_mpiinew_test/000001_mpiinew_test.mp4"


@pytest.fixture
def fake_models(monkeypatch):
    """Replace the detector and pose model the CLI builds by the fakes; returns what was built."""
    built: dict = {}

    def detector(name, **kwargs):
        built["detector"] = (name, FakeDetector())
        return built["detector"][1]

    def pose_model(model, detector=None, log=print):
        built["pose"] = (model.cfg, model.checkpoint, model.posebatch, model.flip)
        return FakePoseModel()

    monkeypatch.setattr("posekit.detectors.build_detector", detector)
    monkeypatch.setattr("posekit.infer.models.load_pose_estimator", pose_model)
    return built


def _results(outdir: Path) -> list[dict]:
    return json.loads((outdir / "alphapose-results.json").read_text())


def test_infer_folder_writes_json_and_vis(coco_mini, tmp_path, fake_models, capsys):
    out = tmp_path / "res"
    assert main(["infer", "--indir", str(coco_mini / "val2017"), "--outdir", str(out), "-v"]) == 0
    stdout = capsys.readouterr().out
    assert "===========================> Finish Model Running." in stdout  # AlphaPose's messages with -v
    assert "Rendering remaining images in the queue..." in stdout and "--vis_fast" in stdout
    assert "Results have been written to json." in stdout
    assert fake_models["detector"][0] == "blazepose" and fake_models["pose"][:2] == (None, None)
    names = sorted(p.name for p in (coco_mini / "val2017").iterdir())
    assert sorted({r["image_id"] for r in _results(out)}) == names
    assert sorted(p.name for p in (out / "vis").iterdir()) == names


def test_seed_shim_accepts_the_seed_command(coco_mini, tmp_path, fake_models, capsys):
    spec = importlib.util.spec_from_file_location("demo_inference", REPO / "scripts" / "demo_inference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "result"
    argv = [
        "--detector=yolox-x",
        "--cfg=./configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml",
        "--checkpoint=./fast_res50_256x192.pth",
        f"--indir={coco_mini / 'val2017'}",
        f"--outdir={out}",
        "--posebatch=8",
        "--flip",
        "--vis_fast",
        "--sp",
    ]
    assert module.main(argv) == 0
    assert fake_models["detector"][0] == "yolox-x"
    assert fake_models["pose"] == ("./configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml",
                                   "./fast_res50_256x192.pth", 8, True)  # fmt: skip
    assert (out / "alphapose-results.json").is_file() and len(list((out / "vis").iterdir())) == 4
    assert "Rendering remaining images" not in capsys.readouterr().out  # --vis_fast: no hint


def test_no_save_img_and_dashed_spellings(coco_mini, tmp_path, fake_models):
    out = tmp_path / "res"
    argv = ["infer", "--indir", str(coco_mini / "val2017"), "--outdir", str(out), "--no-save-img"]
    assert main([*argv, "--min-box-area", "1e9", "--format", "coco"]) == 0
    assert not (out / "vis").exists()
    assert _results(out) == []  # every pose is below the minimum box area


def test_video_with_save_video_and_tracking(posetrack_mini, tmp_path, fake_models, capsys):
    out = tmp_path / "video"
    argv = [
        "infer",
        "--video",
        str(posetrack_mini / MP4),
        "--outdir",
        str(out),
        "--save_video",
        "--pose_track",
    ]
    assert main([*argv, "--showbox"]) == 0
    assert (out / "AlphaPose_000001_mpiinew_test.mp4").is_file() and not (out / "vis").exists()
    results = _results(out)
    assert {r["image_id"] for r in results} == {f"{k}.jpg" for k in range(5)}
    assert all(isinstance(r["idx"], int) for r in results)  # track ids from the tracker
    assert "rendered video:" in capsys.readouterr().out


def test_sample_photo(tmp_path, fake_models):
    out = tmp_path / "result"
    assert main(["infer", "--sample", "--outdir", str(out)]) == 0
    assert {r["image_id"] for r in _results(out)} == {"astronaut.png"}
    assert (out / "vis" / "astronaut.png").is_file()


def test_bad_inputs_give_one_line_and_exit_code(coco_mini, tmp_path, fake_models, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "readme.txt").write_text("no images here")
    assert main(["infer", "--indir", str(empty), "--outdir", str(tmp_path / "o1")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no images" in err and "1 other file(s) ignored" in err

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "zero.jpg").write_bytes(b"")
    (mixed / "ok.jpg").write_bytes(sorted((coco_mini / "val2017").iterdir())[0].read_bytes())
    assert main(["infer", "--indir", str(mixed), "--outdir", str(tmp_path / "o2")]) == 0
    err = capsys.readouterr().err
    assert "skipped 1 unreadable input(s)" in err and "zero.jpg: image file is empty" in err
    assert {r["image_id"] for r in _results(tmp_path / "o2")} == {"ok.jpg"}

    assert main(["infer", "--image", str(mixed / "zero.jpg"), "--outdir", str(tmp_path / "o3")]) == 1
    assert "error: no input could be processed" in capsys.readouterr().err

    assert main(["infer", "--video", str(tmp_path / "missing.mp4"), "--outdir", str(tmp_path / "o4")]) == 1
    assert "missing.mp4: video file not found" in capsys.readouterr().err

    assert main(["infer", "--detector", "nosuch", "--sample", "--outdir", str(tmp_path / "o5")]) == 1
    assert "unknown detector 'nosuch'" in capsys.readouterr().err


def test_cfg_without_checkpoint_is_refused(tmp_path, capsys):
    assert main(["infer", "--sample", "--cfg", "x.yaml", "--outdir", str(tmp_path)]) == 1
    assert "--cfg needs --checkpoint too" in capsys.readouterr().err
