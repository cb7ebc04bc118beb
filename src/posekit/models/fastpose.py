"""FastPose: SE-ResNet backbone, PixelShuffle and two DUC upsampling blocks, a 3x3 heatmap conv.

Attribute names (`preact`, `suffle1`, `duc1`, `duc2`, `conv_out`) are AlphaPose's, so its
checkpoints load with strict=True. Output: raw heatmaps (N, K, H/4, W/4).
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.models.se_resnet import SEResNet


class DUC(nn.Module):
    """Dense upsampling convolution: 3x3 conv (no bias), BN, ReLU, PixelShuffle(2)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.pixel_shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pixel_shuffle(self.relu(self.bn(self.conv(x))))


class FastPose(nn.Module):
    """The FastPose heatmap network."""

    def __init__(self, num_layers: int = 50, num_joints: int = 17, conv_dim: int = 128) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.preact = SEResNet(num_layers)
        self.suffle1 = nn.PixelShuffle(2)
        self.duc1 = DUC(self.preact.out_channels // 4, 1024)
        self.duc2 = DUC(256, conv_dim * 4)
        self.conv_out = nn.Conv2d(conv_dim, num_joints, 3, padding=1)
        nn.init.normal_(self.conv_out.weight, std=0.001)
        nn.init.constant_(self.conv_out.bias, 0.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.suffle1(self.preact(x))
        return self.conv_out(self.duc2(self.duc1(out)))
