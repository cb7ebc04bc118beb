"""Darknet `.cfg` networks as torch modules, and the darknet `.weights` binary reader.

Supported layers: convolutional (with or without batch norm; leaky, linear, relu, logistic, mish,
swish activations; groups), shortcut, route (one or more layers, relative or absolute), upsample,
maxpool (including the stride-1 SPP pools) and yolo. The model's forward returns decoded predictions
(B, N, 5 + classes): cx, cy, w, h in input pixels, objectness and class probabilities, so it exports to
ONNX as is; thresholds and NMS happen outside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from posekit.errors import PosekitError

LEAKY_SLOPE = 0.1


@dataclass
class Block:
    """One `[section]` of a cfg file: its type, its options and the line it starts on."""

    type: str
    options: dict[str, str] = field(default_factory=dict)
    line: int = 0


def parse_cfg_text(text: str, source: str = "<cfg>") -> list[Block]:
    """Parse darknet cfg text into blocks (the first is usually `[net]`)."""
    blocks: list[Block] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise PosekitError(f"{source}:{number}: bad section header {raw.strip()!r}")
            blocks.append(Block(line[1:-1].strip().lower(), {}, number))
        elif "=" in line:
            if not blocks:
                raise PosekitError(f"{source}:{number}: option before the first [section]")
            key, value = line.split("=", 1)
            blocks[-1].options[key.strip()] = value.strip()
        else:
            raise PosekitError(f"{source}:{number}: expected 'key=value' or '[section]', got {raw.strip()!r}")
    if not blocks:
        raise PosekitError(f"{source}: no [sections] found: is this a darknet .cfg file?")
    return blocks


def parse_cfg(path: str | Path) -> list[Block]:
    """Read and parse a darknet cfg file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PosekitError(f"{path}: cannot read darknet cfg ({exc})") from exc
    return parse_cfg_text(text, source=str(path))


def _int(block: Block, key: str, default: int | None = None, source: str = "") -> int:
    value = block.options.get(key)
    if value is None:
        if default is None:
            raise PosekitError(f"{source}:{block.line}: [{block.type}] needs '{key}'")
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise PosekitError(
            f"{source}:{block.line}: [{block.type}] {key}={value!r} is not an integer"
        ) from exc


def _ints(block: Block, key: str, source: str) -> list[int]:
    value = block.options.get(key)
    if value is None:
        raise PosekitError(f"{source}:{block.line}: [{block.type}] needs '{key}'")
    try:
        return [int(v) for v in value.split(",") if v.strip()]
    except ValueError as exc:
        raise PosekitError(
            f"{source}:{block.line}: [{block.type}] {key}={value!r} is not a list of integers"
        ) from exc


class Mish(nn.Module):
    """x * tanh(softplus(x)) written with plain ops (exports to any ONNX opset)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.tanh(F.softplus(x))


def _activation(name: str, where: str) -> nn.Module:
    if name == "leaky":
        return nn.LeakyReLU(LEAKY_SLOPE)
    if name == "linear":
        return nn.Identity()
    if name == "relu":
        return nn.ReLU()
    if name == "logistic":
        return nn.Sigmoid()
    if name == "mish":
        return Mish()
    if name == "swish":
        return nn.SiLU()
    raise PosekitError(f"{where}: unsupported activation {name!r}")


class MaxPool(nn.Module):
    """Darknet max pooling: total padding size-1 (more on the right/bottom), so out = ceil(in/stride)."""

    def __init__(self, size: int, stride: int) -> None:
        super().__init__()
        self.size, self.stride = size, stride
        self.pad_before = (size - 1) // 2
        self.pad_after = size - 1 - self.pad_before

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad_before == self.pad_after:
            return F.max_pool2d(x, self.size, self.stride, self.pad_before)
        pads = (self.pad_before, self.pad_after, self.pad_before, self.pad_after)
        return F.max_pool2d(F.pad(x, pads, value=float("-inf")), self.size, self.stride)


class Upsample(nn.Module):
    """Nearest-neighbour upsampling by an integer factor."""

    def __init__(self, factor: int) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, scale_factor=float(self.factor), mode="nearest")


class YoloLayer(nn.Module):
    """Decodes one detection scale: (B, A*(5+C), H, W) -> (B, A*H*W, 5+C), boxes in input pixels."""

    anchors: torch.Tensor  # (A, 2) anchor sizes in input pixels, a buffer

    def __init__(self, anchors: list[tuple[float, float]], num_classes: int) -> None:
        super().__init__()
        self.num_anchors = len(anchors)
        self.num_classes = num_classes
        self.register_buffer("anchors", torch.tensor(anchors, dtype=torch.float32), persistent=False)

    def forward(self, x: torch.Tensor, input_hw: tuple[int, int]) -> torch.Tensor:
        batch, _, height, width = x.shape
        attrs = 5 + self.num_classes
        pred = x.view(batch, self.num_anchors, attrs, height, width).permute(0, 3, 4, 1, 2)
        ys = torch.arange(height, dtype=x.dtype, device=x.device)
        xs = torch.arange(width, dtype=x.dtype, device=x.device)
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).view(1, height, width, 1, 2)
        cells = torch.sigmoid(pred[..., 0:2]) + grid
        xy = torch.cat(
            [cells[..., 0:1] * (input_hw[1] / width), cells[..., 1:2] * (input_hw[0] / height)], -1
        )
        wh = torch.exp(pred[..., 2:4]) * self.anchors.to(x.dtype)
        rest = torch.sigmoid(pred[..., 4:])
        return torch.cat([xy, wh, rest], dim=-1).reshape(batch, -1, attrs)


class DarknetModel(nn.Module):
    """A network built from darknet cfg blocks; forward returns all yolo layers' decoded predictions."""

    def __init__(self, blocks: list[Block], source: str = "<cfg>") -> None:
        super().__init__()
        self.source = source
        net = blocks[0] if blocks and blocks[0].type in ("net", "network") else Block("net")
        layers = blocks[1:] if net is blocks[0] else blocks
        self.input_hw = (_int(net, "height", 416, source), _int(net, "width", 416, source))
        in_channels = _int(net, "channels", 3, source)
        self.layer_types: list[str] = []
        self.layer_args: list[list[int]] = []
        self.module_list = nn.ModuleList()
        out_channels: list[int] = []
        channels = in_channels
        for index, block in enumerate(layers):
            where = f"{source}:{block.line}: [{block.type}] (layer {index})"
            args: list[int] = []
            if block.type in ("convolutional", "conv"):
                module, channels = self._conv(block, channels, source, where)
            elif block.type == "shortcut":
                source_index = self._absolute(_int(block, "from", None, source), index, where)
                if out_channels[source_index] != channels:
                    raise PosekitError(
                        f"{where}: shortcut adds {out_channels[source_index]} to {channels} channels"
                    )
                args = [source_index]
                module = _activation(block.options.get("activation", "linear"), where)
            elif block.type == "route":
                args = [self._absolute(i, index, where) for i in _ints(block, "layers", source)]
                channels = sum(out_channels[i] for i in args)
                module = nn.Identity()
            elif block.type == "upsample":
                module = Upsample(_int(block, "stride", 2, source))
            elif block.type == "maxpool":
                size = _int(block, "size", None, source)
                module = MaxPool(size, _int(block, "stride", size, source))
            elif block.type == "yolo":
                module = self._yolo(block, channels, source, where)
            else:
                raise PosekitError(f"{where}: unsupported layer type")
            self.layer_types.append(block.type if block.type != "conv" else "convolutional")
            self.layer_args.append(args)
            self.module_list.append(module)
            out_channels.append(channels)
        if "yolo" not in self.layer_types:
            raise PosekitError(f"{source}: no [yolo] layer, so the network has no detection output")
        self.num_classes = next(m.num_classes for m in self.module_list if isinstance(m, YoloLayer))

    @staticmethod
    def _absolute(ref: int, index: int, where: str) -> int:
        target = index + ref if ref < 0 else ref
        if not 0 <= target < index:
            raise PosekitError(f"{where}: refers to layer {ref}, which is not an earlier layer")
        return target

    @staticmethod
    def _conv(block: Block, channels: int, src: str, where: str) -> tuple[nn.Module, int]:
        filters = _int(block, "filters", None, src)
        size = _int(block, "size", 1, src)
        stride = _int(block, "stride", 1, src)
        groups = _int(block, "groups", 1, src)
        pad = size // 2 if _int(block, "pad", 0, src) else _int(block, "padding", 0, src)
        bn = bool(_int(block, "batch_normalize", 0, src))
        if channels % groups or filters % groups:
            raise PosekitError(f"{where}: groups={groups} does not divide {channels} -> {filters} channels")
        seq = nn.Sequential()
        seq.add_module("conv", nn.Conv2d(channels, filters, size, stride, pad, groups=groups, bias=not bn))
        if bn:
            seq.add_module("bn", nn.BatchNorm2d(filters))
        seq.add_module("act", _activation(block.options.get("activation", "logistic"), where))
        return seq, filters

    @staticmethod
    def _yolo(block: Block, channels: int, src: str, where: str) -> YoloLayer:
        flat = _ints(block, "anchors", src)
        if len(flat) % 2:
            raise PosekitError(f"{where}: anchors must be w,h pairs")
        anchors = [(float(flat[i]), float(flat[i + 1])) for i in range(0, len(flat), 2)]
        mask = _ints(block, "mask", src) if "mask" in block.options else list(range(len(anchors)))
        if any(not 0 <= m < len(anchors) for m in mask):
            raise PosekitError(f"{where}: mask {mask} indexes past the {len(anchors)} anchors")
        classes = _int(block, "classes", 80, src)
        if channels != len(mask) * (5 + classes):
            raise PosekitError(
                f"{where}: the layer before has {channels} filters, expected {len(mask)}*(5+{classes})"
            )
        return YoloLayer([anchors[m] for m in mask], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.raw(x), (x.shape[2], x.shape[3]))

    def raw(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The convolutional part (what a runtime backend runs): each yolo layer's input map."""
        outputs: list[torch.Tensor] = []
        raws: list[torch.Tensor] = []
        for kind, args, module in zip(self.layer_types, self.layer_args, self.module_list):
            if kind == "shortcut":
                x = module(x + outputs[args[0]])
            elif kind == "route":
                x = outputs[args[0]] if len(args) == 1 else torch.cat([outputs[i] for i in args], dim=1)
            elif kind == "yolo":
                raws.append(x)
            else:
                x = module(x)
            outputs.append(x)
        return tuple(raws)

    def decode(self, raws: tuple[torch.Tensor, ...], input_hw: tuple[int, int]) -> torch.Tensor:
        """raw() maps -> forward()'s decoded predictions (run in fp32: pixel coordinates need it)."""
        layers = [m for kind, m in zip(self.layer_types, self.module_list) if kind == "yolo"]
        return torch.cat([layer(x, input_hw) for layer, x in zip(layers, raws)], dim=1)

    def conv_layers(self) -> list[nn.Module]:
        """The convolutional layers in file order (the order the .weights file stores them)."""
        return [m for kind, m in zip(self.layer_types, self.module_list) if kind == "convolutional"]


def darknet_float_count(model: DarknetModel) -> int:
    """How many float32 values a .weights file for this model holds after its header."""
    return sum(tensor.numel() for layer in model.conv_layers() for tensor in _stored_tensors(layer))


def _stored_tensors(layer: nn.Module) -> list[torch.Tensor]:
    """One convolutional layer's tensors in the order a .weights file stores them: batch-norm bias,
    scale, running mean and running variance (or the conv bias when there is no batch norm), then the
    conv weights."""
    conv, bn = layer.get_submodule("conv"), getattr(layer, "bn", None)
    if not isinstance(conv, nn.Conv2d) or not isinstance(bn, nn.BatchNorm2d | None):
        raise PosekitError(f"{layer}: not a darknet convolutional layer (a conv and its batch norm, if any)")
    stored = [conv.bias] if bn is None else [bn.bias, bn.weight, bn.running_mean, bn.running_var]
    return [tensor for tensor in (*stored, conv.weight) if tensor is not None]


def _read_header(data: bytes, path: Path) -> int:
    """Size in bytes of the header (major, minor, revision, seen) of a darknet .weights file."""
    if len(data) < 16:
        raise PosekitError(f"{path}: {len(data)} bytes is too short for a darknet .weights file")
    major, minor, _revision = (int(v) for v in np.frombuffer(data, dtype="<i4", count=3))
    seen_is_64bit = (major * 10 + minor) >= 2 and major < 1000 and minor < 1000
    return 20 if seen_is_64bit else 16


def load_darknet_weights(model: DarknetModel, path: str | Path, variant: str | None = None) -> None:
    """Fill `model` from a darknet .weights file, consuming it exactly.

    Per convolutional layer in order: batch-norm bias, scale, running mean, running variance (or the
    conv bias when there is no batch norm), then the conv weights. A file with a different number of
    values is refused with a message naming both counts.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PosekitError(f"{path}: cannot read darknet weights ({exc})") from exc
    start = _read_header(data, path)
    body = len(data) - start
    expected = darknet_float_count(model)
    cfg_name = Path(model.source).name
    variant = variant or Path(cfg_name).stem
    if body % 4 or body // 4 != expected:
        has = f"{body // 4}" if body % 4 == 0 else f"{body} bytes (not whole floats)"
        raise PosekitError(
            f"{path}: expected {expected} floats for {cfg_name}, file has {has}: "
            f"is this the {variant} variant? (a short file can also be an incomplete download)"
        )
    values = torch.from_numpy(np.frombuffer(data, dtype="<f4", offset=start).copy())
    offset = 0

    def take(target: torch.Tensor) -> None:
        nonlocal offset
        count = target.numel()
        target.copy_(values[offset : offset + count].view_as(target))
        offset += count

    with torch.no_grad():
        for layer in model.conv_layers():
            for tensor in _stored_tensors(layer):
                take(tensor)
