"""YOLOX networks (CSPDarknet + PAFPN + decoupled head), nano to x.

Module and parameter names follow the official `yolox_*.pth` checkpoints (their "model" state dict), so
those load with strict=True. Forward (eval) returns decoded predictions (B, N, 5 + classes): cx, cy, w, h
in input pixels, objectness and class probabilities; no data-dependent control flow (ONNX-exportable).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

BN_EPS = 1e-3
BN_MOMENTUM = 0.03
STRIDES = (8, 16, 32)
FPN_CHANNELS = (256, 512, 1024)


@dataclass(frozen=True)
class YoloxSize:
    """Depth and width multipliers of one published YOLOX model."""

    depth: float
    width: float
    depthwise: bool = False


SIZES: dict[str, YoloxSize] = {
    "nano": YoloxSize(0.33, 0.25, depthwise=True),
    "tiny": YoloxSize(0.33, 0.375),
    "s": YoloxSize(0.33, 0.50),
    "m": YoloxSize(0.67, 0.75),
    "l": YoloxSize(1.0, 1.0),
    "x": YoloxSize(1.33, 1.25),
}


class BaseConv(nn.Module):
    """Conv (no bias, same padding) -> BatchNorm -> SiLU."""

    def __init__(self, cin: int, cout: int, ksize: int, stride: int = 1, groups: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, ksize, stride, (ksize - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.act = nn.SiLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class DWConv(nn.Module):
    """Depthwise conv (dconv) followed by a 1x1 pointwise conv (pconv)."""

    def __init__(self, cin: int, cout: int, ksize: int, stride: int = 1) -> None:
        super().__init__()
        self.dconv = BaseConv(cin, cin, ksize, stride, groups=cin)
        self.pconv = BaseConv(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pconv(self.dconv(x))


def make_conv(cin: int, cout: int, ksize: int, stride: int, depthwise: bool) -> nn.Module:
    """A 3x3-style conv: depthwise-separable for nano, plain otherwise."""
    return DWConv(cin, cout, ksize, stride) if depthwise else BaseConv(cin, cout, ksize, stride)


class Bottleneck(nn.Module):
    """1x1 conv, 3x3 conv, plus the input when `shortcut` and the channel counts match."""

    def __init__(self, cin: int, cout: int, shortcut: bool, depthwise: bool) -> None:
        super().__init__()
        self.conv1 = BaseConv(cin, cout, 1)
        self.conv2 = make_conv(cout, cout, 3, 1, depthwise)
        self.use_add = shortcut and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.conv1(x))
        return y + x if self.use_add else y


class CSPLayer(nn.Module):
    """Two 1x1 branches (one through n bottlenecks), concatenated, fused by a 1x1 conv."""

    def __init__(self, cin: int, cout: int, n: int, shortcut: bool = True, depthwise: bool = False) -> None:
        super().__init__()
        hidden = int(cout * 0.5)
        self.conv1 = BaseConv(cin, hidden, 1)
        self.conv2 = BaseConv(cin, hidden, 1)
        self.conv3 = BaseConv(2 * hidden, cout, 1)
        self.m = nn.Sequential(*[Bottleneck(hidden, hidden, shortcut, depthwise) for _ in range(n)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv3(torch.cat([self.m(self.conv1(x)), self.conv2(x)], dim=1))


class SPPBottleneck(nn.Module):
    """1x1 conv, max pools 5/9/13 (stride 1) concatenated with their input, 1x1 conv."""

    def __init__(self, cin: int, cout: int, kernels: tuple[int, ...] = (5, 9, 13)) -> None:
        super().__init__()
        hidden = cin // 2
        self.conv1 = BaseConv(cin, hidden, 1)
        self.m = nn.ModuleList([nn.MaxPool2d(k, stride=1, padding=k // 2) for k in kernels])
        self.conv2 = BaseConv(hidden * (len(kernels) + 1), cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        return self.conv2(torch.cat([x] + [pool(x) for pool in self.m], dim=1))


class Focus(nn.Module):
    """Space-to-depth (pixels at even/odd rows and columns stacked as channels), then a conv."""

    def __init__(self, cin: int, cout: int, ksize: int) -> None:
        super().__init__()
        self.conv = BaseConv(cin * 4, cout, ksize)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Channel order: (even row, even col), (odd row, even col), (even row, odd col), (odd row, odd col).
        parts = [x[..., 0::2, 0::2], x[..., 1::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 1::2]]
        return self.conv(torch.cat(parts, dim=1))


class CSPDarknet(nn.Module):
    """Backbone: Focus stem, then dark2..dark5 (strided conv + CSP; dark5 adds SPP). Returns dark3..5."""

    def __init__(self, depth: float, width: float, depthwise: bool) -> None:
        super().__init__()
        base = int(width * 64)
        n = max(round(depth * 3), 1)
        self.stem = Focus(3, base, ksize=3)
        self.dark2 = self._stage(base, base * 2, n, depthwise)
        self.dark3 = self._stage(base * 2, base * 4, n * 3, depthwise)
        self.dark4 = self._stage(base * 4, base * 8, n * 3, depthwise)
        self.dark5 = nn.Sequential(
            make_conv(base * 8, base * 16, 3, 2, depthwise),
            SPPBottleneck(base * 16, base * 16),
            CSPLayer(base * 16, base * 16, n, shortcut=False, depthwise=depthwise),
        )

    @staticmethod
    def _stage(cin: int, cout: int, n: int, depthwise: bool) -> nn.Sequential:
        return nn.Sequential(
            make_conv(cin, cout, 3, 2, depthwise), CSPLayer(cout, cout, n, depthwise=depthwise)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = self.dark2(self.stem(x))
        c3 = self.dark3(x)
        c4 = self.dark4(c3)
        return c3, c4, self.dark5(c4)


class YOLOPAFPN(nn.Module):
    """Top-down then bottom-up feature pyramid over the backbone's stride 8/16/32 outputs."""

    def __init__(self, depth: float, width: float, depthwise: bool) -> None:
        super().__init__()
        c3, c4, c5 = (int(c * width) for c in FPN_CHANNELS)
        n = round(3 * depth)
        self.backbone = CSPDarknet(depth, width, depthwise)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")
        self.lateral_conv0 = BaseConv(c5, c4, 1)
        self.C3_p4 = CSPLayer(2 * c4, c4, n, False, depthwise)
        self.reduce_conv1 = BaseConv(c4, c3, 1)
        self.C3_p3 = CSPLayer(2 * c3, c3, n, False, depthwise)
        self.bu_conv2 = make_conv(c3, c3, 3, 2, depthwise)
        self.C3_n3 = CSPLayer(2 * c3, c4, n, False, depthwise)
        self.bu_conv1 = make_conv(c4, c4, 3, 2, depthwise)
        self.C3_n4 = CSPLayer(2 * c4, c5, n, False, depthwise)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x3, x4, x5 = self.backbone(x)
        top5 = self.lateral_conv0(x5)
        p4 = self.C3_p4(torch.cat([self.upsample(top5), x4], dim=1))
        top4 = self.reduce_conv1(p4)
        out3 = self.C3_p3(torch.cat([self.upsample(top4), x3], dim=1))
        out4 = self.C3_n3(torch.cat([self.bu_conv2(out3), top4], dim=1))
        out5 = self.C3_n4(torch.cat([self.bu_conv1(out4), top5], dim=1))
        return out3, out4, out5


class YOLOXHead(nn.Module):
    """Decoupled head per scale: stem, 2 cls convs -> class logits, 2 reg convs -> box and objectness."""

    def __init__(self, num_classes: int, width: float, depthwise: bool) -> None:
        super().__init__()
        self.num_classes = num_classes
        hidden = int(256 * width)
        self.stems = nn.ModuleList()
        self.cls_convs = nn.ModuleList()
        self.reg_convs = nn.ModuleList()
        self.cls_preds = nn.ModuleList()
        self.reg_preds = nn.ModuleList()
        self.obj_preds = nn.ModuleList()
        for channels in FPN_CHANNELS:
            self.stems.append(BaseConv(int(channels * width), hidden, 1))
            for convs in (self.cls_convs, self.reg_convs):
                convs.append(nn.Sequential(*[make_conv(hidden, hidden, 3, 1, depthwise) for _ in range(2)]))
            self.cls_preds.append(nn.Conv2d(hidden, num_classes, 1))
            self.reg_preds.append(nn.Conv2d(hidden, 4, 1))
            self.obj_preds.append(nn.Conv2d(hidden, 1, 1))

    def forward(self, features: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return self.decode(self.raw(features))

    def raw(self, features: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """Per scale (B, 4 + 1 + C, H, W): box regression, objectness and class probabilities."""
        outputs = []
        for k, x in enumerate(features):
            x = self.stems[k](x)
            reg_feat = self.reg_convs[k](x)
            out = torch.cat(
                [
                    self.reg_preds[k](reg_feat),
                    torch.sigmoid(self.obj_preds[k](reg_feat)),
                    torch.sigmoid(self.cls_preds[k](self.cls_convs[k](x))),
                ],
                dim=1,
            )
            outputs.append(out)
        return tuple(outputs)

    def decode(self, raws: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The raw maps of every scale -> (B, N, 5 + C) boxes in input pixels (cx, cy, w, h), obj, cls."""
        return torch.cat([self._decode(out, stride) for out, stride in zip(raws, STRIDES)], dim=1)

    @staticmethod
    def _decode(out: torch.Tensor, stride: int) -> torch.Tensor:
        height, width = out.shape[2:]
        pred = out.flatten(start_dim=2).permute(0, 2, 1)
        ys = torch.arange(height, dtype=out.dtype, device=out.device)
        xs = torch.arange(width, dtype=out.dtype, device=out.device)
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).reshape(1, -1, 2)
        xy = (pred[..., 0:2] + grid) * stride
        wh = torch.exp(pred[..., 2:4]) * stride
        return torch.cat([xy, wh, pred[..., 4:]], dim=-1)


class YOLOX(nn.Module):
    """backbone (PAFPN holding the CSPDarknet) + head, as in the official checkpoints."""

    def __init__(self, size: str, num_classes: int = 80) -> None:
        super().__init__()
        spec = SIZES[size]
        self.backbone = YOLOPAFPN(spec.depth, spec.width, spec.depthwise)
        self.head = YOLOXHead(num_classes, spec.width, spec.depthwise)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def raw(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The convolutional part (what a runtime backend runs): per-scale maps before the grid decode."""
        return self.head.raw(self.backbone(x))

    def decode(self, raws: tuple[torch.Tensor, ...], input_hw: tuple[int, int]) -> torch.Tensor:
        """raw() maps -> forward()'s decoded predictions (run in fp32: pixel coordinates need it)."""
        return self.head.decode(raws)
