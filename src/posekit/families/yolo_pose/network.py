"""The YOLO-pose network rebuilt from the architecture dict an Ultralytics checkpoint stores (`yaml`).

`YoloPoseNet.forward(x)` takes the float32 NCHW letterboxed batch (RGB in 0..1, sides multiples of 32)
and returns the decoded head output (B, 4 + nc + K*D, anchors); see head.Pose.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from posekit.families.yolo_pose.blocks import C2PSA, SPPF, C2f, C3k2, Concat, Conv
from posekit.families.yolo_pose.head import Pose

WIDTH_MODULES = {"Conv": Conv, "C2f": C2f, "C3k2": C3k2, "SPPF": SPPF, "C2PSA": C2PSA}
REPEAT_MODULES = {"C2f", "C3k2", "C2PSA"}  # built once with the repeat count as their `n`
MAX_ARGS = {"Conv": 3, "C2f": 2, "C3k2": 3, "SPPF": 2, "C2PSA": 1}  # yaml args each row may carry


class ArchitectureError(ValueError):
    """The stored architecture uses something this builder does not implement."""


class YoloPoseNet(nn.Module):
    """The layers of the stored architecture, run in order with their `from` wiring."""

    def __init__(self, layers: list[nn.Module], froms: list[Any], kpt_shape: tuple[int, int], nc: int):
        super().__init__()
        self.model = nn.ModuleList(layers)
        self.froms = froms
        self.kpt_shape = tuple(kpt_shape)
        self.nc = nc
        self.saved = {j for f in froms for j in (f if isinstance(f, list) else [f]) if j != -1}
        self.strides: tuple[float, ...] = tuple(self.head.strides)

    @property
    def head(self) -> Pose:
        """The last layer: the pose head."""
        head = self.model[-1]
        if not isinstance(head, Pose):
            raise ArchitectureError(f"the stored architecture ends in {type(head).__name__}, not a pose head")
        return head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self._neck(x))

    def _neck(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Every layer but the head, with the `from` wiring: the head's input maps."""
        outputs: dict[int, torch.Tensor] = {}
        last = len(self.model) - 1
        current: Any = x  # one map, or the list of maps a layer with several sources takes
        for index, (layer, source) in enumerate(zip(self.model, self.froms)):
            if isinstance(source, list):
                current = [current if j == -1 else outputs[j] for j in source]
            elif source != -1:
                current = outputs[source]
            if index == last:
                return current
            current = layer(current)
            if index in self.saved:
                outputs[index] = current
        raise ArchitectureError("the stored architecture has no head layer")

    def raw(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The convolutional part (what a runtime backend runs): the head's maps before the decode."""
        return self.head.raw(self._neck(x))

    def decode(self, raws: tuple[torch.Tensor, ...], input_hw: tuple[int, int]) -> torch.Tensor:
        """raw() of an (H, W) input -> forward()'s decoded output (run in fp32: pixel coordinates)."""
        shapes = [(int(input_hw[0]) // int(s), int(input_hw[1]) // int(s)) for s in self.strides]
        return self.head.decode(raws, shapes)


def _width(channels: int, width: float, max_channels: int) -> int:
    return math.ceil(min(channels, max_channels) * width / 8) * 8


def _repeats(count: int, depth: float) -> int:
    return max(round(count * depth), 1) if count > 1 else count


def _resolve(value: Any, top: dict[str, Any]) -> Any:
    if value == "None":
        return None
    if isinstance(value, str) and value in top:
        return top[value]
    return value


def _channels(channels: list[int], source: int, input_channels: int) -> int:
    """Output channels of layer `source` (-1: the previous one; the image before layer 0)."""
    return channels[source] if channels else input_channels


def _absolute(source: Any, index: int) -> Any:
    """`from` with negative indices other than -1 made absolute."""
    if isinstance(source, list):
        return [_absolute(s, index) for s in source]
    return source + index if source < -1 else source


def build_network(
    arch: dict[str, Any], nc: int, kpt_shape: tuple[int, int], strides: tuple[float, ...]
) -> YoloPoseNet:
    """The network of a stored architecture dict (scales n-x, YOLOv8 C2f or YOLO11 C3k2/C2PSA rows).

    `nc` and `kpt_shape` come from the checkpoint's head (the dict's own `nc` may be stale).
    Raises ArchitectureError for a row this builder does not implement.
    """
    scales = arch.get("scales") or {}
    scale = arch.get("scale") or (next(iter(scales)) if scales else None)
    depth, width, max_channels = scales.get(scale, (1.0, 1.0, 1 << 30))
    top = {"nc": nc, "kpt_shape": list(kpt_shape)}
    rows = list(arch.get("backbone", [])) + list(arch.get("head", []))
    channels: list[int] = []
    layers: list[nn.Module] = []
    froms: list[Any] = []
    legacy = not any(row[2] == "C3k2" for row in rows)
    input_channels = int(arch.get("channels", arch.get("ch", 3)))
    for index, (source, count, name, args) in enumerate(rows):
        source = _absolute(source, index)
        name = name.removeprefix("torch.").removeprefix("nn.")
        args = [_resolve(a, top) for a in args]
        repeats = _repeats(int(count), depth)

        if name in WIDTH_MODULES:
            if len(args) > MAX_ARGS[name]:
                raise ArchitectureError(f"layer {index}: {name} with arguments {args} (a newer variant)")
            c1, c2 = _channels(channels, source, input_channels), _width(int(args[0]), width, max_channels)
            extra = list(args[1:])
            if name in REPEAT_MODULES:
                extra.insert(0, repeats)
                repeats = 1
            if name == "C3k2" and scale in ("m", "l", "x"):
                extra = [extra[0], True, *extra[2:]]
            make = WIDTH_MODULES[name]
            layer = make(c1, c2, *extra)
            if repeats > 1:
                layer = nn.Sequential(*(make(c1 if i == 0 else c2, c2, *extra) for i in range(repeats)))
        elif name == "Upsample":
            size, factor, mode = (args + [None, 2, "nearest"][len(args) :])[:3]
            layer, c2 = (
                nn.Upsample(size=size, scale_factor=factor, mode=mode),
                _channels(channels, source, input_channels),
            )
        elif name == "Concat":
            if args not in ([], [1]):
                raise ArchitectureError(f"layer {index}: Concat along dimension {args[0]}")
            layer, c2 = Concat(), sum(_channels(channels, j, input_channels) for j in source)
        elif name == "Pose" and index == len(rows) - 1:
            layer = Pose(
                nc, kpt_shape, [_channels(channels, j, input_channels) for j in source], strides, legacy
            )
            c2 = 0
        else:
            raise ArchitectureError(f"layer {index}: {name} is not a YOLOv8/YOLO11-pose layer")
        channels.append(c2)
        layers.append(layer)
        froms.append(source)
    if not layers or not isinstance(layers[-1], Pose):
        raise ArchitectureError("the architecture does not end in a Pose head")
    return YoloPoseNet(layers, froms, kpt_shape, nc)
