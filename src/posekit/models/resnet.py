"""AlphaPose's ResNet backbones with its parameter names: SE-ResNet, plain ResNet and shuffle ResNet.

Depths 18/34 (basic blocks) and 50/101/152 (bottlenecks); stride 32 at the end. The layout is
torchvision's ResNet v1.5 (stride on the 3x3 conv), so ImageNet files in torchvision's format load.
- `se`: a squeeze-and-excitation layer (`se.fc`, reduction 1) in every block that has a downsample
  (block 0 of a layer whose input differs), after the last BN and before the residual sum.
- `plain`: no SE; with DCN only block 0 of a stage is deformable.
- `shuffle`: as `se`, but a strided bottleneck's 3x3 conv is a PixelUnshuffle(2) followed by a stride-1
  conv over 4x the channels (`conv2.1`), and a deformable 3x3 conv is AlphaPose's DCN module.
With DCN (MODEL.DCN) in a stage, a bottleneck's 3x3 conv is deformable: `conv2_offset` predicts the
offsets and `conv2` holds the deformable weights (se/plain), or `conv2` is a DCN (shuffle).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from posekit.config import DCNConfig
from posekit.errors import ConfigError
from posekit.models.dcn import DCN, DeformConv, offset_channels, split_offset_mask

VARIANTS = ("se", "plain", "shuffle")


class SELayer(nn.Module):
    """Squeeze-and-excitation: channel weights from a global average (fc = Linear, ReLU, Linear, Sigmoid)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(channels, channels), nn.ReLU(inplace=True), nn.Linear(channels, channels), nn.Sigmoid()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c = x.shape[:2]
        return x * self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)


class PixelUnshuffle(nn.Module):
    """(N, C, H, W) -> (N, C r^2, H/r, W/r); channel c r^2 + i r + j holds input pixel (h r + i, w r + j)."""

    def __init__(self, factor: int) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        r = self.factor
        x = x.reshape(n, c, h // r, r, w // r, r).permute(0, 1, 3, 5, 2, 4)
        return x.reshape(n, c * r * r, h // r, w // r)


class BasicBlock(nn.Module):
    """Two 3x3 convs (ResNet-18/34); DCN does not apply to them, as in AlphaPose."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int, downsample: nn.Module | None, se: bool, **_):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.se = SELayer(planes) if se else None
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.se is not None:
            out = self.se(out)
        residual = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + residual)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (strided; deformable with DCN) -> 1x1 x4 convs (ResNet-50/101/152)."""

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int,
        downsample: nn.Module | None,
        se: bool,
        dcn: DCNConfig | None = None,
        shuffle: bool = False,
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.dcn = (
            dcn if dcn is not None and not dcn.fallback_on_stride else None
        )  # AlphaPose: fallback = plain
        self.conv2_offset: nn.Conv2d | None = None
        if shuffle:
            self.conv2 = _shuffle_conv(planes, stride, self.dcn)
        elif self.dcn is not None:
            groups = self.dcn.deform_group
            self.conv2_offset = nn.Conv2d(planes, offset_channels(self.dcn.modulated, groups), 3, stride, 1)
            self.conv2 = DeformConv(planes, planes, 3, stride, 1, 1, groups)
        else:
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.se = SELayer(planes * 4) if se else None
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        if self.conv2_offset is not None and self.dcn is not None:  # made together in __init__
            offset, mask = split_offset_mask(
                self.conv2_offset(out), self.dcn.modulated, self.dcn.deform_group
            )
            out = self.conv2(out, offset, mask)
        else:
            out = self.conv2(out)
        out = self.bn3(self.conv3(F.relu(self.bn2(out))))
        if self.se is not None:
            out = self.se(out)
        residual = self.downsample(x) if self.downsample is not None else x
        return F.relu(out + residual)


def _shuffle_conv(planes: int, stride: int, dcn: DCNConfig | None) -> nn.Module:
    """The shuffle ResNet's 3x3 conv: strided -> PixelUnshuffle then a stride-1 conv over 4x the channels."""
    inplanes = planes * stride * stride

    def conv3x3(step: int) -> nn.Module:
        if dcn is None:
            return nn.Conv2d(inplanes, planes, 3, step, 1, bias=False)
        return DCN(inplanes, planes, dcn.modulated, dcn.deform_group, 3, step, 1)

    if stride > 1:
        return nn.Sequential(PixelUnshuffle(stride), conv3x3(1))
    return conv3x3(stride)


# depth -> (block type, blocks per layer)
ARCHITECTURES: dict[int, tuple[type[BasicBlock] | type[Bottleneck], list[int]]] = {
    18: (BasicBlock, [2, 2, 2, 2]),
    34: (BasicBlock, [3, 4, 6, 3]),
    50: (Bottleneck, [3, 4, 6, 3]),
    101: (Bottleneck, [3, 4, 23, 3]),
    152: (Bottleneck, [3, 8, 36, 3]),
}


class ResNetBackbone(nn.Module):
    """Stem (7x7/2 conv, BN, ReLU, 3x3/2 max pool) and four layers; `variant` is one of VARIANTS."""

    def __init__(
        self,
        depth: int = 50,
        variant: str = "se",
        dcn: DCNConfig | None = None,
        stage_with_dcn: tuple[bool, ...] | list[bool] = (False, False, False, False),
    ) -> None:
        super().__init__()
        if depth not in ARCHITECTURES:
            raise ConfigError(f"MODEL.NUM_LAYERS must be one of {sorted(ARCHITECTURES)}, got {depth}")
        if variant not in VARIANTS:
            raise ValueError(f"ResNet variant must be one of {VARIANTS}, got {variant!r}")
        block, counts = ARCHITECTURES[depth]
        self.variant = variant
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        stage_dcn = [dcn if on else None for on in stage_with_dcn]
        self.layer1 = self._make_layer(block, 64, counts[0], 1, stage_dcn[0])
        self.layer2 = self._make_layer(block, 128, counts[1], 2, stage_dcn[1])
        self.layer3 = self._make_layer(block, 256, counts[2], 2, stage_dcn[2])
        self.layer4 = self._make_layer(block, 512, counts[3], 2, stage_dcn[3])
        self.out_channels = 512 * block.expansion

    def _make_layer(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        planes: int,
        blocks: int,
        stride: int,
        dcn: DCNConfig | None,
    ) -> nn.Sequential:
        out = planes * block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, out, 1, stride, bias=False), nn.BatchNorm2d(out)
            )
        se = self.variant != "plain"
        shuffle = self.variant == "shuffle"
        later_dcn = None if self.variant == "plain" else dcn  # plain ResNet: DCN in block 0 only
        layers = [
            block(
                self.inplanes,
                planes,
                stride,
                downsample,
                se and downsample is not None,
                dcn=dcn,
                shuffle=shuffle,
            )
        ]
        self.inplanes = out
        layers += [
            block(out, planes, 1, None, False, dcn=later_dcn, shuffle=shuffle) for _ in range(1, blocks)
        ]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))
