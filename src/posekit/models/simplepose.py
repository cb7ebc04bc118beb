"""SimplePose (simple baselines): a plain ResNet, three 4x4/2 transposed convs (+BN, ReLU), a 1x1 conv.

Names are AlphaPose's: `preact`, `deconv_layers` (indices 0/1, 3/4, 6/7 hold the deconvs and BNs),
`final_layer`. The first deconv takes 2048 channels (AlphaPose's fixed width), so NUM_LAYERS is 50+.
Output: raw heatmaps (N, K, H/4, W/4).
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.config import ModelConfig
from posekit.models.resnet import ResNetBackbone


class SimplePose(nn.Module):
    """The SimplePose heatmap network."""

    output_layer = "final_layer"

    def __init__(
        self, num_layers: int = 50, num_joints: int = 17, deconv_dims: list[int] | None = None
    ) -> None:
        super().__init__()
        dims = list(deconv_dims or [256, 256, 256])
        self.num_joints = num_joints
        self.preact = ResNetBackbone(num_layers, "plain")
        layers: list[nn.Module] = []
        width = self.preact.out_channels
        for dim in dims:
            layers += [
                nn.ConvTranspose2d(width, dim, 4, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(dim),
                nn.ReLU(inplace=True),
            ]
            width = dim
        self.deconv_layers = nn.Sequential(*layers)
        self.final_layer = nn.Conv2d(dims[-1], num_joints, 1)
        nn.init.normal_(self.final_layer.weight, std=0.001)
        if self.final_layer.bias is not None:  # made with a bias
            nn.init.constant_(self.final_layer.bias, 0.0)

    @classmethod
    def from_config(cls, model: ModelConfig, num_joints: int) -> SimplePose:
        """The network MODEL describes (NUM_LAYERS, NUM_DECONV_FILTERS)."""
        return cls(model.num_layers, num_joints, model.num_deconv_filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.final_layer(self.deconv_layers(self.preact(x)))
