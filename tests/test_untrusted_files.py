"""Untrusted files never run code: every checkpoint reader refuses a pickle whose __reduce__ would act."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from devkit.train_helpers import TINY_CFG, tiny_config
from posekit.detectors.yolox import load_yolox_checkpoint
from posekit.detectors.yolox_net import YOLOX
from posekit.errors import PosekitError
from posekit.models import checkpoint
from posekit.models.builder import build_pose_model
from posekit.models.checkpoint import (
    load_checkpoint,
    load_imagenet_backbone,
    load_pose_network,
    read_state_dict,
)
from posekit.train.loop import RESUME_FILE, TrainOptions, train


class _Payload:
    """Unpickled by a full unpickler, this creates `marker` (a stand-in for any code an attacker runs)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _hostile_checkpoint(tmp_path: Path) -> tuple[Path, Path]:
    """A training checkpoint whose 'history' carries the payload; returns (file, marker)."""
    cfg = tiny_config(tmp_path)
    marker = tmp_path / "MARKER"
    state = {
        "model": build_pose_model(cfg.model, cfg.data_preset).state_dict(),
        "history": [_Payload(marker)],
    }
    path = tmp_path / "hostile.pth"
    torch.save(state, path)
    return path, marker


def test_the_hostile_file_really_runs_code_under_a_full_unpickler(tmp_path):
    path, marker = _hostile_checkpoint(tmp_path)
    torch.load(path, weights_only=False)  # the control: what posekit must never do
    assert marker.is_file()


def _assert_refused(call, path: Path, marker: Path) -> None:
    with pytest.raises(PosekitError) as err:
        call()
    message = str(err.value)
    assert message.startswith(f"{path}: refused: its pickle asks for ")
    assert "which would run code" in message and "\n" not in message
    assert not marker.exists()


def test_every_checkpoint_reader_refuses_the_payload(tmp_path):
    path, marker = _hostile_checkpoint(tmp_path)
    cfg = tiny_config(tmp_path)
    model = build_pose_model(cfg.model, cfg.data_preset)
    _assert_refused(lambda: read_state_dict(path), path, marker)
    _assert_refused(lambda: load_checkpoint(model, path), path, marker)
    _assert_refused(lambda: load_checkpoint(model, path, strict=False), path, marker)
    _assert_refused(lambda: load_pose_network(cfg, path), path, marker)
    _assert_refused(lambda: load_imagenet_backbone(model, 18, path), path, marker)
    _assert_refused(lambda: load_yolox_checkpoint(YOLOX("nano"), path, "yolox-nano"), path, marker)


@pytest.mark.parametrize("flag", ["pretrained", "try_load", "imagenet"])
def test_training_refuses_the_payload_before_writing_anything(tmp_path, flag):
    path, marker = _hostile_checkpoint(tmp_path)
    opts = TrainOptions(
        cfg=tiny_config(tmp_path), work_root=tmp_path / "exp", num_workers=0, **{flag: str(path)}
    )
    _assert_refused(lambda: train(opts), path, marker)
    assert not (opts.work_dir / RESUME_FILE).exists()


def test_pretrained_is_read_once(coco_mini, tmp_path, monkeypatch):
    """--pretrained used to be checked with weights_only=True and then re-opened with a full unpickler:
    a file swapped in between ran its payload. Now the file is read exactly once."""
    cfg = tiny_config(coco_mini, **{"TRAIN.END_EPOCH": 1, "MODEL.CONV_DIM": 8, "TRAIN.BATCH_SIZE": 12})
    first = train(TrainOptions(cfg=cfg, work_root=tmp_path, num_workers=0, validate=False, snapshot=1))
    reads = []
    real_load = torch.load

    def counting_load(file, *args, **kwargs):
        reads.append((Path(file), kwargs.get("weights_only")))
        return real_load(file, *args, **kwargs)

    monkeypatch.setattr(checkpoint.torch, "load", counting_load)
    resume = first.work_dir / RESUME_FILE
    again = TrainOptions(cfg=cfg, work_root=tmp_path, num_workers=0, validate=False, pretrained=str(resume))
    assert train(again).history == first.history  # resumed after epoch 0: nothing left to train
    assert reads == [(resume, True)]


def test_corrupt_and_truncated_checkpoints_say_so(tmp_path):
    cfg = tiny_config(tmp_path)
    good = tmp_path / "good.pth"
    torch.save(build_pose_model(cfg.model, cfg.data_preset).state_dict(), good)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good.read_bytes()[:1000])
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    for path in (cut, empty):
        with pytest.raises(
            PosekitError, match=rf"{path.name}: not a readable PyTorch checkpoint: corrupt, trunc"
        ):
            read_state_dict(path)
    assert TINY_CFG.is_file()
