"""Deformable convolution (v1, and v2 with a modulation mask) in plain PyTorch.

Semantics are mmcv's, which AlphaPose's DCN layers use: for output pixel (ho, wo) and kernel tap
k = i * kw + j (row-major), the input is sampled at
    (ho * stride - pad + i * dilation + dy, wo * stride - pad + j * dilation + dx)
by bilinear interpolation, with zeros outside the image. Offsets hold (dy, dx) pairs: channel
2 * (g * K + k) is dy and 2 * (g * K + k) + 1 is dx for deformable group g (K = kh * kw taps); the input
channels are split into DEFORM_GROUP contiguous groups, each with its own offsets. v2 multiplies each
sample by its mask value (channel g * K + k).

Sampling uses grid_sample, so the layer trains with autograd and exports to ONNX (GridSample, opset 16).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

DCN_MIN_OPSET = 16  # ONNX GridSample


def deform_conv2d(
    x: torch.Tensor,
    offset: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Deformable convolution of `x` (N, C, H, W) with `weight` (O, C, kh, kw); see the module doc."""
    n, channels, height, width = x.shape
    out_channels, _, kh, kw = weight.shape
    taps = kh * kw
    groups = offset.shape[1] // (2 * taps)
    out_h, out_w = offset.shape[2], offset.shape[3]
    dtype, device = x.dtype, x.device

    # Base sampling positions (taps, out_h, out_w) in input pixels.
    rows = torch.arange(out_h, dtype=dtype, device=device) * stride - padding
    cols = torch.arange(out_w, dtype=dtype, device=device) * stride - padding
    tap_rows = (torch.arange(kh, dtype=dtype, device=device) * dilation).repeat_interleave(kw)
    tap_cols = (torch.arange(kw, dtype=dtype, device=device) * dilation).repeat(kh)
    base_y = tap_rows.view(taps, 1, 1) + rows.view(1, out_h, 1)
    base_x = tap_cols.view(taps, 1, 1) + cols.view(1, 1, out_w)

    pairs = offset.reshape(n, groups, taps, 2, out_h, out_w)
    y = base_y + pairs[:, :, :, 0]  # (N, G, taps, out_h, out_w)
    xs = base_x + pairs[:, :, :, 1]
    # Pixel coordinates -> grid_sample's [-1, 1] (align_corners=False: pixel centres at (2p + 1) / size - 1).
    grid = torch.stack(((2 * xs + 1) / width - 1, (2 * y + 1) / height - 1), dim=-1)
    grid = grid.reshape(n * groups, taps * out_h, out_w, 2)
    per_group = x.reshape(n * groups, channels // groups, height, width)
    sampled = F.grid_sample(per_group, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    sampled = sampled.reshape(n, groups, channels // groups, taps, out_h, out_w)
    if mask is not None:
        sampled = sampled * mask.reshape(n, groups, 1, taps, out_h, out_w)
    columns = sampled.reshape(n, channels * taps, out_h * out_w)
    out = torch.matmul(weight.reshape(out_channels, channels * taps), columns)
    out = out.reshape(n, out_channels, out_h, out_w)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


class DeformConv(nn.Module):
    """A deformable conv's weights (mmcv's DeformConv / ModulatedDeformConv): `weight`, optional `bias`.

    forward(x, offset[, mask]): offsets (and the v2 mask) come from the caller's offset conv.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 1,
        dilation: int = 1,
        deformable_groups: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        if in_channels % deformable_groups:
            raise ValueError(
                f"{in_channels} input channels do not split into {deformable_groups} deform groups"
            )
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.deformable_groups = deformable_groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        nn.init.uniform_(
            self.weight,
            -1 / math.sqrt(in_channels * kernel_size**2),
            1 / math.sqrt(in_channels * kernel_size**2),
        )

    def forward(
        self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        return deform_conv2d(
            x, offset, self.weight, self.bias, self.stride, self.padding, self.dilation, mask
        )


def offset_channels(modulated: bool, deform_group: int, taps: int = 9) -> int:
    """Channels of the conv that predicts offsets (2 per tap) and, for v2, the mask (1 per tap)."""
    return deform_group * taps * (3 if modulated else 2)


def split_offset_mask(raw: torch.Tensor, modulated: bool, deform_group: int, taps: int = 9):
    """The offset conv's output -> (offsets, sigmoid mask or None), as AlphaPose slices it."""
    if not modulated:
        return raw, None
    return raw[:, : 2 * taps * deform_group], raw[:, -taps * deform_group :].sigmoid()


class DCN(nn.Module):
    """AlphaPose's DCN layer: `conv_offset` (a plain conv predicting offsets and, for v2, the mask) and
    the deformable `conv`. FALLBACK_ON_STRIDE is decided by the block: it keeps a plain conv instead."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        modulated: bool = False,
        deform_group: int = 1,
        kernel_size: int = 3,
        stride: int = 1,
        padding: int = 1,
        bias: bool = False,
    ) -> None:
        super().__init__()
        self.modulated, self.deform_group, self.taps = modulated, deform_group, kernel_size**2
        self.conv_offset = nn.Conv2d(
            in_channels, offset_channels(modulated, deform_group, self.taps), kernel_size, stride, padding
        )
        self.conv = DeformConv(in_channels, out_channels, kernel_size, stride, padding, 1, deform_group, bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        offset, mask = split_offset_mask(self.conv_offset(x), self.modulated, self.deform_group, self.taps)
        return self.conv(x, offset, mask)


def has_deform_conv(model: nn.Module) -> bool:
    """Whether `model` samples with deformable convolutions (its ONNX export needs opset DCN_MIN_OPSET)."""
    return any(isinstance(m, DeformConv) for m in model.modules())
