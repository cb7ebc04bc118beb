"""FastPose: SE-ResNet backbone (DCN optional), PixelShuffle, two DUC upsampling blocks, a 3x3 heatmap conv.

Attribute names (`preact`, `suffle1`, `duc1`, `duc2`, `conv_out`) are AlphaPose's, so its checkpoints load
with strict=True. Widths as AlphaPose builds them: ResNet-50/101/152 -> DUC(512, 1024), DUC(256, 4 CONV_DIM),
conv_out(CONV_DIM); ResNet-18/34 -> DUC(128, 256), DUC(64, 4 CONV_DIM) with CONV_DIM 32 unless given.
Output: raw heatmaps (N, K, H/4, W/4).
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.config import DCNConfig, ModelConfig
from posekit.models.resnet import ResNetBackbone


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


def default_conv_dim(num_layers: int) -> int:
    """FastPose's CONV_DIM when the config gives none: 128, or 32 for the basic-block ResNet-18/34."""
    return 32 if num_layers in (18, 34) else 128


class FastPose(nn.Module):
    """The FastPose heatmap network."""

    output_layer = "conv_out"

    def __init__(
        self,
        num_layers: int = 50,
        num_joints: int = 17,
        conv_dim: int | None = None,
        dcn: DCNConfig | None = None,
        stage_with_dcn: tuple[bool, ...] | list[bool] = (False, False, False, False),
    ) -> None:
        super().__init__()
        conv_dim = conv_dim or default_conv_dim(num_layers)
        self.num_joints = num_joints
        self.preact = ResNetBackbone(num_layers, "se", dcn, stage_with_dcn)
        self.suffle1 = nn.PixelShuffle(2)
        first = self.preact.out_channels // 4
        self.duc1 = DUC(first, first * 2)
        self.duc2 = DUC(first // 2, conv_dim * 4)
        self.conv_out = nn.Conv2d(conv_dim, num_joints, 3, padding=1)
        nn.init.normal_(self.conv_out.weight, std=0.001)
        if self.conv_out.bias is not None:  # made with a bias
            nn.init.constant_(self.conv_out.bias, 0.0)

    @classmethod
    def from_config(cls, model: ModelConfig, num_joints: int) -> FastPose:
        """The network MODEL describes (NUM_LAYERS, CONV_DIM, DCN, STAGE_WITH_DCN)."""
        return cls(model.num_layers, num_joints, model.conv_dim, model.dcn, model.stage_with_dcn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.suffle1(self.preact(x))
        return self.conv_out(self.duc2(self.duc1(out)))
