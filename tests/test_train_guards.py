"""Training refuses what would lose a run or waste one: another run's folder, a non-finite loss, a missing
image, a config value or flag out of range; each as one line naming the key, flag or file."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys

import pytest
import torch

from devkit.train_helpers import GT_ANN, REPO, TINY_CFG, tiny_config
from posekit.cli.main import main
from posekit.config import load_config
from posekit.errors import ConfigError, PosekitError
from posekit.train import metrics
from posekit.train.loop import RESUME_FILE, TrainOptions, train
from posekit.train.workdir import LOCK_FILE, claim

CHEAP = {"MODEL.CONV_DIM": 8, "TRAIN.BATCH_SIZE": 12}  # 12 people: one small step per epoch


def _options(cfg, tmp_path, **kw):
    return TrainOptions(cfg=cfg, work_root=tmp_path, num_workers=0, validate=False, snapshot=1, **kw)


def test_same_experiment_id_never_overwrites_a_run(coco_mini, tmp_path):
    cfg = tiny_config(coco_mini, **CHEAP, **{"TRAIN.END_EPOCH": 1})
    first = train(_options(cfg, tmp_path, exp_id="run"))
    saved = {p.name: p.read_bytes() for p in first.work_dir.glob("*.pth")}
    assert sorted(saved) == [RESUME_FILE, "final_DPG.pth", "model_0.pth"]
    for again in (
        _options(cfg, tmp_path, exp_id="run"),
        _options(cfg, tmp_path, exp_id="run", try_load=str(first.work_dir / "final_DPG.pth")),
    ):
        with pytest.raises(PosekitError) as err:
            train(again)
        assert str(err.value) == (
            f"{first.work_dir} already holds a training run ({RESUME_FILE}), nothing overwritten: resume it "
            f"with --pretrained {first.work_dir / RESUME_FILE}, or start a fresh run with --exp_id run-2 "
            f"(-> {tmp_path / 'run-2-tiny_res18_128x96.yaml'})"
        )
    assert {p.name: p.read_bytes() for p in first.work_dir.glob("*.pth")} == saved
    resumed = train(_options(cfg, tmp_path, exp_id="run", pretrained=str(first.work_dir / RESUME_FILE)))
    assert resumed.history == first.history  # resuming its own checkpoint is the one way back in
    assert not (first.work_dir / LOCK_FILE).exists()


def test_a_second_run_in_a_folder_being_trained_is_refused(tmp_path):
    work = tmp_path / "exp" / "a-cfg"
    with (
        claim(work),
        pytest.raises(PosekitError, match=rf"another training \(pid {os.getpid()}\) is running"),
        claim(work),
    ):
        pass
    (work / LOCK_FILE).write_text("999999999")  # left by a process that died
    stale = work / ".checkpoint.pth.posekit-999999999-abc123.tmp"  # its checkpoint save, cut by kill -9
    stale.write_bytes(b"half")
    with claim(work):
        assert (work / LOCK_FILE).read_text() == str(os.getpid())
        assert not stale.exists()


@pytest.mark.parametrize("exp_id", ["../escape", "a/b", "..", ".hidden", ""])
def test_experiment_ids_that_leave_the_work_folder_are_refused(tmp_path, exp_id):
    with pytest.raises(PosekitError, match=r"experiment id .*no '/', no '\.\.'"):
        train(_options(tiny_config(tmp_path), tmp_path / "exp", exp_id=exp_id))
    assert not (tmp_path / "escape").exists() and not (tmp_path / "exp").exists()


def test_a_non_finite_loss_stops_naming_epoch_and_step(coco_mini, tmp_path, monkeypatch):
    real = metrics.heatmap_loss
    calls = []

    def loss_going_nan(output, target, weight):
        calls.append(1)
        value = real(output, target, weight)
        return value * math.nan if len(calls) == 3 else value  # epoch 1 (2 steps per epoch), step 0

    monkeypatch.setattr(metrics, "heatmap_loss", loss_going_nan)  # head_loss calls it
    cfg = tiny_config(coco_mini, **{**CHEAP, "TRAIN.END_EPOCH": 3, "TRAIN.BATCH_SIZE": 6})
    opts = _options(cfg, tmp_path)
    with pytest.raises(PosekitError) as err:
        train(opts)
    assert str(err.value).startswith("training stopped: the loss is nan at epoch 1, step 0 (check TRAIN.LR")
    assert torch.load(opts.work_dir / RESUME_FILE, weights_only=True)["epoch"] == 0  # epoch 0 kept


def test_a_missing_or_empty_image_is_reported_before_the_first_epoch(coco_mini, tmp_path):
    root = tmp_path / "coco"
    shutil.copytree(coco_mini, root)
    names = [img["file_name"] for img in json.loads((root / GT_ANN).read_text())["images"]]
    (root / "val2017" / names[0]).unlink()
    (root / "val2017" / names[1]).write_bytes(b"")
    opts = TrainOptions(
        cfg=tiny_config(root, **{"TRAIN.END_EPOCH": 1}), work_root=tmp_path / "exp", num_workers=1
    )
    with pytest.raises(PosekitError) as err:
        train(opts)
    first = sorted([root / "val2017" / names[0], root / "val2017" / names[1]])[0]
    problem = "image file not found" if first.name == names[0] else "image file is empty"
    assert str(err.value) == f"{first}: {problem} (and 1 more); listed in {root / GT_ANN}"
    assert not (opts.work_dir / "training.log").read_text().count("Starting Epoch")


def test_an_unreadable_image_in_a_worker_is_one_line(coco_mini, tmp_path):
    root = tmp_path / "coco"
    shutil.copytree(coco_mini, root)
    name = json.loads((root / GT_ANN).read_text())["images"][0]["file_name"]
    (root / "val2017" / name).write_bytes(b"not a jpeg")
    # in a fresh interpreter: DataLoader workers of this long test process (OpenVINO / LiteRT threads
    # running) are what the test must not depend on
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from devkit.train_helpers import tiny_config\n"
        "from posekit.errors import PosekitError\n"
        "from posekit.train.loop import TrainOptions, train\n"
        "opts = TrainOptions(cfg=tiny_config(Path(sys.argv[1]), **{'TRAIN.END_EPOCH': 1}),"
        " work_root=Path(sys.argv[2]), num_workers=1)\n"
        "try:\n    train(opts)\nexcept PosekitError as exc:\n    print(exc)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)])}
    done = subprocess.run(
        [sys.executable, "-c", code, str(root), str(tmp_path / "exp")],
        env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == f"{root / 'val2017' / name}: not a readable image"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("TRAIN.BATCH_SIZE", 0, "TRAIN.BATCH_SIZE must be an integer >= 1, got 0"),
        ("TRAIN.BATCH_SIZE", -3, "TRAIN.BATCH_SIZE must be an integer >= 1, got -3"),
        ("TRAIN.LR", float("nan"), "TRAIN.LR must be a finite number > 0, got nan"),
        ("TRAIN.LR", -0.001, "TRAIN.LR must be a finite number > 0, got -0.001"),
        (
            "DATA_PRESET.IMAGE_SIZE",
            [0, 192],
            "DATA_PRESET.IMAGE_SIZE must be [H, W], each a multiple of 4 and > 0, got [0, 192]",
        ),
        (
            "DATA_PRESET.IMAGE_SIZE",
            [130, 96],
            "DATA_PRESET.IMAGE_SIZE must be [H, W], each a multiple of 4 and > 0, got [130, 96]",
        ),
        (
            "DATA_PRESET.HEATMAP_SIZE",
            [64, 48],
            "DATA_PRESET.HEATMAP_SIZE must be IMAGE_SIZE / 4 = [32, 24], got [64, 48]",
        ),
        ("MODEL.CONV_DIM", 0, "MODEL.CONV_DIM must be an integer >= 1, got 0"),
        (
            "DATASET.TRAIN.ANN",
            [],
            "DATASET.TRAIN.ANN must be a file name or a non-empty list of file names, got []",
        ),
        (
            "DATASET.TRAIN.AUG.ROT_FACTOR",
            1e6,
            "DATASET.TRAIN.AUG.ROT_FACTOR must be degrees in [0, 180], got 1000000.0",
        ),
        ("DATA_PRESET.SIGMA", 0, "DATA_PRESET.SIGMA must be a number in (0, 100], got 0.0"),
    ],
)
def test_config_values_out_of_range_name_the_key(key, value, message):
    with pytest.raises(ConfigError) as err:
        load_config(TINY_CFG, {key: value})
    assert str(err.value) == f"{TINY_CFG}: {message}"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--batch-size", "0"], "error: --batch_size must be an integer >= 1, got 0"),
        (["--snapshot", "0"], "error: --snapshot must be an integer >= 1, got 0"),
        (["--nThreads", "-1"], "error: --nThreads must be an integer >= 0, got -1"),
        (["--device", "banana"], "error: --device 'banana': not a torch device (use cpu, cuda or cuda:N)"),
    ],
)
def test_flags_out_of_range_name_the_flag(tmp_path, capsys, flags, message):
    assert main(["train", f"--cfg={TINY_CFG}", f"--work_root={tmp_path}", *flags]) == 1
    assert capsys.readouterr().err == message + "\n"
    assert list(tmp_path.iterdir()) == []


def test_device_cuda_without_a_gpu_and_an_unwritable_work_root(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", f"--cfg={TINY_CFG}", f"--work_root={tmp_path}", "--device", "cuda"]) == 1
    assert (
        capsys.readouterr().err
        == "error: --device cuda: this machine has no usable CUDA GPU; use --device cpu\n"
    )
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["train", f"--cfg={TINY_CFG}", f"--work_root={blocker / 'exp'}"]) == 1
    assert (
        capsys.readouterr().err
        == f"error: {blocker / 'exp'}: --work_root folder cannot be written (Not a directory)\n"
    )
    assert main(["train", f"--cfg={TINY_CFG}", "--work_root=/proc/posekit-exp"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: /proc/posekit-exp: --work_root folder cannot be written (")


def test_a_yaml_config_with_a_python_tag_never_runs_code(tmp_path):
    marker = tmp_path / "MARKER"
    path = tmp_path / "cfg.yaml"
    path.write_text(
        "DATASET: !!python/object/apply:pathlib.Path.touch "
        f"[!!python/object/apply:pathlib.Path ['{marker}']]\n"
    )
    with pytest.raises(ConfigError, match=r"cfg\.yaml: not valid YAML \(could not determine a constructor"):
        load_config(path)
    assert not marker.exists()


@pytest.mark.parametrize(("option", "value", "message"), [
    ("snapshot", 0, "snapshot must be an integer >= 1, got 0"),
    ("num_workers", -1, "num_workers (--nThreads) must be an integer >= 0, got -1"),
])  # fmt: skip
def test_library_options_out_of_range_are_one_line(tmp_path, option, value, message):
    opts = TrainOptions(cfg=tiny_config(tmp_path), work_root=tmp_path / "exp", **{option: value})
    with pytest.raises(PosekitError) as err:
        train(opts)
    assert str(err.value) == message and not (tmp_path / "exp").exists()
