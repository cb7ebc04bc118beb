"""Deformable convolution (v1, and v2 with a modulation mask) in plain PyTorch.

Semantics are mmcv's, which AlphaPose's DCN layers use: for output pixel (ho, wo) and kernel tap
k = i * kw + j (row-major), the input is sampled at
    (ho * stride - pad + i * dilation + dy, wo * stride - pad + j * dilation + dx)
by bilinear interpolation, with zeros outside the image. Offsets hold (dy, dx) pairs: channel
2 * (g * K + k) is dy and 2 * (g * K + k) + 1 is dx for deformable group g (K = kh * kw taps); the input
channels are split into DEFORM_GROUP contiguous groups, each with its own offsets. v2 multiplies each
sample by its mask value (channel g * K + k).

Sampling gathers the four neighbours of every sampling point from a row-per-pixel copy of the input (one
extra zero row stands for "outside"), so the layer trains with autograd and exports to ONNX with plain
Gather/Floor/Where ops (opset 11), which onnxruntime and OpenVINO run.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def _bilinear_rows(
    rows: torch.Tensor, y: torch.Tensor, x: torch.Tensor, height: int, width: int
) -> torch.Tensor:
    """Bilinear samples at (y, x) (B, P) from `rows` (B*H*W + 1, C): row b*H*W + i*W + j is pixel (i, j)
    of image b, the last row zeros. Returns (B, P, C); neighbours outside the image count 0."""
    batch = y.shape[0]
    base = (torch.arange(batch, device=y.device) * (height * width)).view(batch, 1)
    outside = rows.shape[0] - 1
    y0, x0 = torch.floor(y), torch.floor(x)
    wy1, wx1 = y - y0, x - x0
    wy0, wx0 = 1 - wy1, 1 - wx1
    y0i, x0i = y0.long(), x0.long()

    def corner(dy: int, dx: int, weight: torch.Tensor) -> torch.Tensor:
        yi, xi = y0i + dy, x0i + dx
        inside = (yi >= 0) & (yi < height) & (xi >= 0) & (xi < width)
        index = torch.where(inside, base + yi * width + xi, torch.full_like(yi, outside))
        part = rows.index_select(0, index.reshape(-1)).reshape(*index.shape, rows.shape[1])
        return part * weight.unsqueeze(-1)

    return (
        corner(0, 0, wy0 * wx0) + corner(0, 1, wy0 * wx1) + corner(1, 0, wy1 * wx0) + corner(1, 1, wy1 * wx1)
    )


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
    per_group = channels // groups
    out_h, out_w = offset.shape[2], offset.shape[3]
    dtype, device = x.dtype, x.device

    # Base sampling positions (taps, out_h, out_w) in input pixels, taps in row-major order.
    rows = torch.arange(out_h, dtype=dtype, device=device) * stride - padding
    cols = torch.arange(out_w, dtype=dtype, device=device) * stride - padding
    tap_rows = (torch.arange(kh, dtype=dtype, device=device) * dilation).repeat_interleave(kw)
    tap_cols = (torch.arange(kw, dtype=dtype, device=device) * dilation).repeat(kh)
    base_y = tap_rows.view(taps, 1, 1) + rows.view(1, out_h, 1)
    base_x = tap_cols.view(taps, 1, 1) + cols.view(1, 1, out_w)

    pairs = offset.reshape(n * groups, taps, 2, out_h, out_w)
    y = (base_y + pairs[:, :, 0]).reshape(n * groups, taps * out_h * out_w)
    xs = (base_x + pairs[:, :, 1]).reshape(n * groups, taps * out_h * out_w)
    pixels = x.reshape(n * groups, per_group, height * width).transpose(1, 2).reshape(-1, per_group)
    pixels = torch.cat([pixels, pixels.new_zeros(1, per_group)])
    sampled = _bilinear_rows(pixels, y, xs, height, width)  # (N*G, taps*out_h*out_w, C/G)
    sampled = sampled.reshape(n, groups, taps, out_h * out_w, per_group)
    if mask is not None:
        sampled = sampled * mask.reshape(n, groups, taps, out_h * out_w, 1)
    # columns (N, HW, G*taps*C/G) against the weight in the same (group, tap, channel) order
    columns = sampled.permute(0, 3, 1, 2, 4).reshape(n, out_h * out_w, channels * taps)
    kernel = weight.reshape(out_channels, groups, per_group, taps).permute(0, 1, 3, 2)
    out = torch.matmul(columns, kernel.reshape(out_channels, channels * taps).t())
    out = out.transpose(1, 2).reshape(n, out_channels, out_h, out_w)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    return out


# A leaf for torch.fx: networks with DCN still trace, so inference folds their BatchNorms.
torch.fx.wrap("deform_conv2d")


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
