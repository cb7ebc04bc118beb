"""One device resolver: the CLI maps --device / --gpus to a device name, posekit.infer.models turns
"auto" into the first GPU or the CPU."""

from __future__ import annotations

from argparse import Namespace

from posekit.cli.common import device_from_args
from posekit.infer import models


def test_the_device_flags_name_one_device(monkeypatch):
    assert device_from_args(Namespace(device="cuda:1", gpus="0")) == "cuda:1"
    assert device_from_args(Namespace(device=None, gpus=None)) == "auto"
    assert device_from_args(Namespace(device=None, gpus="-1")) == "cpu"
    monkeypatch.setattr(models, "resolve_device", lambda device: "cuda")
    assert device_from_args(Namespace(device=None, gpus="1,0")) == "cuda:1"
    monkeypatch.setattr(models, "resolve_device", lambda device: "cpu")  # a machine without a GPU
    assert device_from_args(Namespace(device=None, gpus="1")) == "cpu"


def test_auto_is_the_first_gpu_or_the_cpu():
    import torch

    assert models.resolve_device("cpu") == "cpu" and models.resolve_device("cuda:1") == "cuda:1"
    assert models.resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
