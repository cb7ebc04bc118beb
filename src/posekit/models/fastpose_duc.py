"""FastPose_DUC: a ResNet backbone (SE, shuffle or plain) and three DUC stages, then a 3x3 heatmap conv.

Each stage `ducN` (AlphaPose's names) is PixelShuffle(2) followed by STAGEn.NUM_CONV 3x3 conv+BN+ReLU
triples: the first NUM_CONV-1 keep the shuffled width (C/4), the last maps to the stage's output
(1024, 512, then 256). Output: raw heatmaps (N, K, H/4, W/4).
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.config import DCNConfig, ModelConfig
from posekit.models.resnet import ResNetBackbone

CONV_DIM = 256  # AlphaPose's FastPose_DUC fixes it (MODEL.CONV_DIM is not read)
BACKBONES = {"se-resnet": "se", "shuffle": "shuffle"}  # any other MODEL.BACKBONE: plain ResNet


def duc_stage(in_channels: int, out_channels: int, num_conv: int) -> nn.Sequential:
    """PixelShuffle(2), then num_conv (3x3 conv, BN, ReLU) with the last one widening to out_channels."""
    width = in_channels // 4
    layers: list[nn.Module] = [nn.PixelShuffle(2)]
    for index in range(num_conv):
        out = out_channels if index == num_conv - 1 else width
        layers += [
            nn.Conv2d(width, out, 3, padding=1, bias=False),
            nn.BatchNorm2d(out),
            nn.ReLU(inplace=True),
        ]
    return nn.Sequential(*layers)


class FastPoseDUC(nn.Module):
    """The FastPose_DUC heatmap network (AlphaPose's MODEL.TYPE FastPose_DUC)."""

    output_layer = "conv_out"

    def __init__(
        self,
        num_layers: int = 50,
        num_joints: int = 17,
        backbone: str = "se-resnet",
        num_convs: tuple[int, int, int] = (4, 2, 1),
        dcn: DCNConfig | None = None,
        stage_with_dcn: tuple[bool, ...] | list[bool] = (False, False, False, False),
    ) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.preact = ResNetBackbone(num_layers, BACKBONES.get(backbone, "plain"), dcn, stage_with_dcn)
        channels = self.preact.out_channels
        self.duc1 = duc_stage(channels, channels // 2, num_convs[0])
        self.duc2 = duc_stage(channels // 2, channels // 4, num_convs[1])
        self.duc3 = duc_stage(channels // 4, CONV_DIM, num_convs[2])
        self.conv_out = nn.Conv2d(CONV_DIM, num_joints, 3, padding=1)
        nn.init.normal_(self.conv_out.weight, std=0.001)
        if self.conv_out.bias is not None:  # made with a bias
            nn.init.constant_(self.conv_out.bias, 0.0)

    @classmethod
    def from_config(cls, model: ModelConfig, num_joints: int) -> FastPoseDUC:
        """The network MODEL describes (NUM_LAYERS, BACKBONE, STAGE1-3.NUM_CONV, DCN, STAGE_WITH_DCN)."""
        convs = tuple(getattr(model, f"stage{i}").num_conv for i in (1, 2, 3))
        return cls(model.num_layers, num_joints, model.backbone, convs, model.dcn, model.stage_with_dcn)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_out(self.duc3(self.duc2(self.duc1(self.preact(x)))))
