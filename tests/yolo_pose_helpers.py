"""Writing YOLO-pose checkpoints laid out as Ultralytics saves them, for the loader's tests.

posekit's own blocks are pickled under Ultralytics' module paths (fake modules in sys.modules, only
for the duration of one test via monkeypatch), so a file with any keypoint set or head can be made.
"""

from __future__ import annotations

import copy
import sys
import types
from pathlib import Path

import torch
from torch import nn

from posekit.families.yolo_pose import blocks, head
from posekit.families.yolo_pose.network import YoloPoseNet, build_network

ULTRALYTICS_PATHS = {
    "ultralytics.nn.modules.conv": (blocks, ("Conv", "DWConv", "Concat")),
    "ultralytics.nn.modules.block": (
        blocks,
        ("C2f", "C3k2", "C3k", "Bottleneck", "SPPF", "C2PSA", "PSABlock", "Attention"),
    ),
    "ultralytics.nn.modules.head": (head, ("Pose", "DFL")),
}

# The YOLOv8-pose architecture dict (facts §2.1) with an extra tiny scale "t" (8-64 channels) for speed.
YOLOV8_POSE_ARCH = {
    "nc": 1,
    "kpt_shape": [17, 3],
    "scales": {"t": [0.33, 0.125, 1024], "n": [0.33, 0.25, 1024], "s": [0.33, 0.5, 1024]},
    "backbone": [
        [-1, 1, "Conv", [64, 3, 2]],
        [-1, 1, "Conv", [128, 3, 2]],
        [-1, 3, "C2f", [128, True]],
        [-1, 1, "Conv", [256, 3, 2]],
        [-1, 6, "C2f", [256, True]],
        [-1, 1, "Conv", [512, 3, 2]],
        [-1, 6, "C2f", [512, True]],
        [-1, 1, "Conv", [1024, 3, 2]],
        [-1, 3, "C2f", [1024, True]],
        [-1, 1, "SPPF", [1024, 5]],
    ],
    "head": [
        [-1, 1, "nn.Upsample", ["None", 2, "nearest"]],
        [[-1, 6], 1, "Concat", [1]],
        [-1, 3, "C2f", [512]],
        [-1, 1, "nn.Upsample", ["None", 2, "nearest"]],
        [[-1, 4], 1, "Concat", [1]],
        [-1, 3, "C2f", [256]],
        [-1, 1, "Conv", [256, 3, 2]],
        [[-1, 12], 1, "Concat", [1]],
        [-1, 3, "C2f", [512]],
        [-1, 1, "Conv", [512, 3, 2]],
        [[-1, 9], 1, "Concat", [1]],
        [-1, 3, "C2f", [1024]],
        [[15, 18, 21], 1, "Pose", ["nc", "kpt_shape"]],
    ],
    "scale": "t",
}


def random_network(kpt_shape: tuple[int, int], seed: int = 0, arch: dict | None = None) -> YoloPoseNet:
    """A YOLOv8n-pose with seeded random weights and perturbed batch-norm statistics."""
    torch.manual_seed(seed)
    net = build_network(arch or YOLOV8_POSE_ARCH, 1, kpt_shape, (8.0, 16.0, 32.0))
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return net.eval()


def _task_class(name: str) -> type:
    return type(name, (nn.Module,), {"__module__": "ultralytics.nn.tasks", "__qualname__": name})


def save_ultralytics_checkpoint(
    path: Path,
    net: YoloPoseNet,
    monkeypatch,
    arch: dict | None = None,
    task_class: str = "PoseModel",
    head_class: str = "Pose",
    half: bool = True,
    ema: YoloPoseNet | None = None,
    model_kpt_shape: bool = True,
    **extra,
) -> Path:
    """torch.save `net` as an Ultralytics checkpoint {"model": PoseModel, "ema": ...} in fp16 (or fp32);
    model_kpt_shape False leaves the PoseModel without its kpt_shape attribute."""
    tasks = types.ModuleType("ultralytics.nn.tasks")
    monkeypatch.setitem(sys.modules, "ultralytics", types.ModuleType("ultralytics"))
    monkeypatch.setitem(sys.modules, "ultralytics.nn", types.ModuleType("ultralytics.nn"))
    monkeypatch.setitem(sys.modules, "ultralytics.nn.tasks", tasks)
    for module_name, (source, names) in ULTRALYTICS_PATHS.items():
        fake = types.ModuleType(module_name)
        monkeypatch.setitem(sys.modules, module_name, fake)
        for name in names:
            cls = getattr(source, name)
            monkeypatch.setattr(cls, "__module__", module_name)
            setattr(fake, name, cls)
    if head_class != "Pose":  # the head pickled under another class name (net's head is re-classed)
        renamed = type(head_class, (head.Pose,), {"__module__": "ultralytics.nn.modules.head"})
        setattr(sys.modules["ultralytics.nn.modules.head"], head_class, renamed)
        net.model[-1].__class__ = renamed
    model_cls = _task_class(task_class)
    setattr(tasks, task_class, model_cls)

    def wrap(network: YoloPoseNet) -> nn.Module:
        model = model_cls()
        model.model = nn.Sequential(*copy.deepcopy(network).model)
        model.yaml = dict(arch or YOLOV8_POSE_ARCH, kpt_shape=list(network.kpt_shape))
        model.stride = torch.tensor([8.0, 16.0, 32.0])
        model.names = {0: "person"}
        if model_kpt_shape:
            model.kpt_shape = list(network.kpt_shape)
        return model.half() if half else model

    checkpoint = {
        "date": "test",
        "version": "test",
        "license": "test licence",
        "model": wrap(net),
        "ema": wrap(ema) if ema is not None else None,
    }
    torch.save({**checkpoint, **extra}, path)
    return path
