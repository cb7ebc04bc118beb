"""HRNet (PoseHighResolutionNet) with AlphaPose's parameter names; the width comes from the config.

Stem: two 3x3/2 convs (`conv1`/`bn1`, `conv2`/`bn2`) and `layer1` (4 bottlenecks, 64 -> 256). Stages 2-4
(`stage2`..`stage4`, each NUM_MODULES HighResolutionModules) run NUM_BRANCHES parallel resolutions;
`transition1`..`transition3` adapt widths and add the new, half-resolution branch (from the previous
stage's lowest-resolution output). Each module's `fuse_layers[i][j]` brings branch j to branch i: 1x1
conv + BN + nearest upsampling when j > i, a chain of 3x3/2 conv + BN (+ReLU except the last) when j < i.
The last module keeps only the highest-resolution output; `final_layer` (FINAL_CONV_KERNEL) makes the
heatmaps (N, K, H/4, W/4).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import torch
from torch import nn

from posekit.config import ModelConfig, StageConfig
from posekit.errors import ConfigError


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual."""

    expansion = 1

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        residual = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + residual)


class Bottleneck(nn.Module):
    """1x1 -> 3x3 -> 1x1 x4 convs with a residual."""

    expansion = 4

    def __init__(
        self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        residual = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + residual)


BLOCKS: dict[str, type[BasicBlock] | type[Bottleneck]] = {"BASIC": BasicBlock, "BOTTLENECK": Bottleneck}


def residual_layer(
    block: type[BasicBlock] | type[Bottleneck], inplanes: int, planes: int, blocks: int
) -> nn.Sequential:
    """`blocks` residual blocks at stride 1; block 0 gets a 1x1 conv + BN downsample when widths differ."""
    out = planes * block.expansion
    downsample = None
    if inplanes != out:
        downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, bias=False), nn.BatchNorm2d(out))
    layers = [block(inplanes, planes, 1, downsample)]
    layers += [block(out, planes) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


def conv_bn(in_channels: int, out_channels: int, kernel: int, stride: int, relu: bool) -> nn.Sequential:
    """Conv (no bias), BN and optionally ReLU; padding keeps the size at stride 1."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class HighResolutionModule(nn.Module):
    """Parallel branches of residual blocks, then the exchange between resolutions (sum of resized inputs)."""

    def __init__(self, stage: StageConfig, in_channels: list[int], multi_scale_output: bool = True) -> None:
        super().__init__()
        block = BLOCKS[stage.block]
        self.num_branches = stage.num_branches
        self.branches = nn.ModuleList(
            residual_layer(block, in_channels[i], stage.num_channels[i], stage.num_blocks[i])
            for i in range(self.num_branches)
        )
        self.out_channels = [c * block.expansion for c in stage.num_channels]
        outputs = self.num_branches if multi_scale_output else 1
        rows = [[self._fuse(j, i) for j in range(self.num_branches)] for i in range(outputs)]
        # torch's stub takes modules only, but ModuleList stores None (add_module accepts it); the None
        # entries keep the indices of AlphaPose's checkpoint keys (fuse_layers.<i>.<j>)
        self.fuse_layers = nn.ModuleList(nn.ModuleList(row) for row in rows)  # type: ignore[arg-type]
        self.relu = nn.ReLU(inplace=False)

    def _fuse(self, source: int, target: int) -> nn.Module | None:
        channels = self.out_channels
        if source == target:
            return None
        if source > target:
            return nn.Sequential(
                nn.Conv2d(channels[source], channels[target], 1, 1, 0, bias=False),
                nn.BatchNorm2d(channels[target]),
                nn.Upsample(scale_factor=2 ** (source - target), mode="nearest"),
            )
        steps = target - source
        return nn.Sequential(
            *(
                conv_bn(
                    channels[source],
                    channels[target] if k == steps - 1 else channels[source],
                    3,
                    2,
                    k < steps - 1,
                )
                for k in range(steps)
            )
        )

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        xs = [branch(x) for branch, x in zip(self.branches, xs)]
        fused = []
        rows = cast(Iterable[nn.ModuleList], self.fuse_layers)  # built as a ModuleList of ModuleLists
        for i, row in enumerate(rows):
            y = xs[0] if i == 0 else row[0](xs[0])
            for j in range(1, self.num_branches):
                y = y + (xs[j] if i == j else row[j](xs[j]))
            fused.append(self.relu(y))
        return fused


def transition(previous: list[int], current: list[int]) -> nn.ModuleList:
    """Width adapters into a stage: a 3x3 conv where an existing branch's width changes (None when equal),
    and for each new branch a chain of 3x3/2 convs from the previous lowest resolution."""
    layers: list[nn.Module | None] = []
    for i, channels in enumerate(current):
        if i < len(previous):
            layers.append(conv_bn(previous[i], channels, 3, 1, True) if previous[i] != channels else None)
            continue
        steps = i + 1 - len(previous)
        layers.append(
            nn.Sequential(
                *(
                    conv_bn(previous[-1], channels if k == steps - 1 else previous[-1], 3, 2, True)
                    for k in range(steps)
                )
            )
        )
    return nn.ModuleList(layers)  # type: ignore[arg-type]  # None entries: see HighResolutionModule


class PoseHighResolutionNet(nn.Module):
    """HRNet for heatmaps; stages from MODEL.STAGE2..STAGE4."""

    output_layer = "final_layer"

    def __init__(self, stages: list[StageConfig], num_joints: int = 17, final_conv_kernel: int = 1) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.conv1 = nn.Conv2d(3, 64, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv2d(64, 64, 3, 2, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = residual_layer(Bottleneck, 64, 64, 4)
        channels = [256]
        for index, stage in enumerate(stages, start=1):
            widths = [c * BLOCKS[stage.block].expansion for c in stage.num_channels]
            setattr(self, f"transition{index}", transition(channels, widths))
            last = index == len(stages)
            modules = []
            for m in range(stage.num_modules):
                module = HighResolutionModule(
                    stage, widths, multi_scale_output=not (last and m == stage.num_modules - 1)
                )
                widths = module.out_channels
                modules.append(module)
            setattr(self, f"stage{index + 1}", nn.Sequential(*modules))
            channels = widths
        self.num_stages = len(stages)
        self.final_layer = nn.Conv2d(
            channels[0], num_joints, final_conv_kernel, 1, 1 if final_conv_kernel == 3 else 0
        )

    @classmethod
    def from_config(cls, model: ModelConfig, num_joints: int) -> PoseHighResolutionNet:
        """The network MODEL describes (STAGE2-4, FINAL_CONV_KERNEL)."""
        stages = [stage for stage in (model.stage2, model.stage3, model.stage4) if stage is not None]
        if len(stages) != 3:
            raise ConfigError("MODEL: PoseHighResolutionNet needs STAGE2, STAGE3 and STAGE4")
        return cls(stages, num_joints, model.final_conv_kernel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x))))))
        ys = [self.layer1(x)]
        for index in range(1, self.num_stages + 1):
            adapters = getattr(self, f"transition{index}")
            xs = []
            for i, adapter in enumerate(adapters):
                if adapter is None:
                    xs.append(ys[i])
                else:  # AlphaPose: stage 2 adapts the stem output; later stages their lowest resolution
                    xs.append(adapter(ys[-1]))
            ys = getattr(self, f"stage{index + 1}")(xs)
        return self.final_layer(ys[0])
