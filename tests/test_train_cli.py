"""The training command line: AlphaPose's flags parse, and the seed's command runs end to end."""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

import pytest

from devkit.train_helpers import REPO, TINY_CFG
from posekit.cli.main import main
from posekit.cli.train import add_train_flags
from posekit.train import loop

WORK = "exp/default-tiny_res18_128x96.yaml"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_train_flags(parser)
    return parser.parse_args(argv)


def test_every_alphapose_train_flag_parses():
    args = _parse(
        ["--cfg=x.yaml", "--board", "--debug", "--sync", "--exp-id", "X", "--snapshot", "2",
         "--nThreads", "0", "--rank", "0", "--dist-url", "tcp://x", "--dist-backend", "gloo",
         "--launcher", "none", "--detector", "yolox-s", "--map"]
    )  # fmt: skip
    assert (args.cfg, args.board, args.debug, args.sync, args.exp_id) == ("x.yaml", True, True, True, "X")
    assert (args.snapshot, args.nThreads, args.rank, args.dist_url) == (2, 0, "0", "tcp://x")
    assert (args.dist_backend, args.launcher, args.detector, args.map) == ("gloo", "none", "yolox-s", True)
    seed = _parse(["--cfg=x.yaml", "--debug", "--batch_size=2", "--end_epoch=2", "--pretrained=a.pth"])
    assert (seed.debug, seed.board, seed.batch_size, seed.end_epoch, seed.pretrained) == (
        True, False, 2, 2, "a.pth"
    )  # fmt: skip
    assert _parse(["--cfg=x.yaml", "--try_load=b.pth", "--no-map"]).try_load == "b.pth"
    assert _parse(["--cfg=x.yaml", "--no-map"]).map is False


def test_cli_passes_detector_to_training(tmp_path, monkeypatch, capsys):
    seen = []

    def fake_train(opts: loop.TrainOptions) -> loop.TrainSummary:
        seen.append(opts)
        return loop.TrainSummary(opts.work_dir, [], False, None)

    monkeypatch.setattr(loop, "train", fake_train)
    argv = ["train", f"--cfg={TINY_CFG}", "--detector=yolox-s", f"--work_root={tmp_path}", "--debug"]
    assert main(argv) == 0
    assert [opts.detector for opts in seen] == ["yolox-s"]
    assert main(argv[:2] + argv[3:]) == 0
    assert seen[1].detector is None  # DETECTOR.NAME decides
    assert "Training finished:" in capsys.readouterr().out


def _train_script(cwd, env, *flags: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(REPO / "scripts/train.py"), f"--cfg={TINY_CFG}", "--batch_size=2", *flags]
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done


@pytest.mark.skipif(sys.platform != "linux", reason="subprocess timing checked on Linux")
def test_seed_training_command_end_to_end(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["convert", "sample"]) == 0  # ./data/input
    assert main(["convert", "labelme"]) == 0  # ./data/input -> ./data/coco/
    assert (tmp_path / "data/coco/annotations/person_keypoints_val2017.json").is_file()
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}",
        "POSEKIT_HOME": str(tmp_path / "home"),  # no detector weights: det-box validation must say why
        "TORCH_HOME": str(tmp_path / "torch"),  # no ImageNet file: random init, said in one line
    }
    first = _train_script(tmp_path, env, "--end_epoch=2")  # verbatim seed command
    namespace = next(line for line in first.stdout.splitlines() if line.startswith("Namespace("))
    assert f"work_dir='{WORK}/'" in namespace and "world_size=1" in namespace
    work = tmp_path / WORK
    log = (work / "training.log").read_text()
    assert "No ImageNet ResNet-18 file in" in log
    for epoch in (0, 1):
        assert re.search(rf"^############# Starting Epoch {epoch} \| LR: 0\.001 #############$", log, re.M)
        assert re.search(rf"^Train-{epoch} epoch \| loss:\d\.\d{{8}} \| acc:\d\.\d{{4}}$", log, re.M)
    assert re.search(r"^##### Epoch 1 \| gt mAP: \d\.\d{4} \| rcnn mAP: n/a #####$", log, re.M)
    skipped = next(line for line in log.splitlines() if line.startswith("det-box validation skipped: "))
    assert "yolov3-spp.weights" in skipped
    for name in ("final_DPG.pth", "model_1.pth", "test_gt_kpt.json", "curves.png", "checkpoint.pth"):
        assert (work / name).is_file(), name
    assert not (work / "model_0.pth").exists()  # --snapshot 2

    resumed = _train_script(
        tmp_path, env, f"--pretrained={WORK}/checkpoint.pth", "--end_epoch=3", "--nThreads=0"
    )
    assert "Resuming after epoch 1" in resumed.stdout
    assert "############# Starting Epoch 2 | LR: 0.001 #############" in resumed.stdout
    assert "Starting Epoch 1 " not in resumed.stdout and "Train-2 epoch | loss:" in resumed.stdout

    transfer = _train_script(
        tmp_path, env, f"--try_load={WORK}/final_DPG.pth", "--end_epoch=1", "--exp-id=transfer", "--debug"
    )
    assert "Loaded 146 of 146 tensors whose name and shape match" in transfer.stdout
    assert (tmp_path / "exp/transfer-tiny_res18_128x96.yaml/final_DPG.pth").is_file()
