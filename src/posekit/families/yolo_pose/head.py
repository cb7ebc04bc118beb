"""The Pose head: box (DFL), class and keypoint branches per level, decoded into one output tensor."""

from __future__ import annotations

import torch
from torch import nn

from posekit.families.yolo_pose.blocks import Conv, DWConv

REG_MAX = 16


class DFL(nn.Module):
    """Distribution focal loss integral: the expected bin (0..reg_max-1) of each side's softmax."""

    def __init__(self, bins: int = REG_MAX) -> None:
        super().__init__()
        self.conv = nn.Conv2d(bins, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(bins, dtype=torch.float32).view(1, bins, 1, 1)
        self.c1 = bins

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, anchors = x.shape
        probs = x.view(batch, 4, self.c1, anchors).transpose(2, 1).softmax(1)
        return self.conv(probs).view(batch, 4, anchors)


def make_anchors(shapes: list[tuple[int, int]], strides: tuple[float, ...], like: torch.Tensor):
    """Anchor centres (2, A) in grid units (cell + 0.5, row-major per level) and their strides (1, A)."""
    points, stride_rows = [], []
    for (height, width), stride in zip(shapes, strides):
        xs = torch.arange(width, dtype=like.dtype, device=like.device) + 0.5
        ys = torch.arange(height, dtype=like.dtype, device=like.device) + 0.5
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        points.append(torch.stack((grid_x, grid_y), 0).view(2, -1))
        stride_rows.append(torch.full((1, height * width), stride, dtype=like.dtype, device=like.device))
    return torch.cat(points, 1), torch.cat(stride_rows, 1)


class Pose(nn.Module):
    """YOLOv8/YOLO11 Pose head over the P3-P5 maps -> (B, 4 + nc + K*D, A) decoded output.

    Rows: box cx, cy, w, h in input pixels; class scores (sigmoid); per keypoint x, y in input pixels
    (and sigmoid visibility when D = 3). `legacy` picks YOLOv8's plain class branch over YOLO11's
    depthwise one.
    """

    def __init__(
        self,
        nc: int,
        kpt_shape: tuple[int, int],
        channels: list[int],
        strides: tuple[float, ...],
        legacy: bool,
    ) -> None:
        super().__init__()
        self.nc, self.kpt_shape, self.strides = nc, tuple(kpt_shape), tuple(float(s) for s in strides)
        self.nk = self.kpt_shape[0] * self.kpt_shape[1]
        c2 = max(16, channels[0] // 4, 4 * REG_MAX)
        c3 = max(channels[0], min(nc, 100))
        c4 = max(channels[0] // 4, self.nk)
        self.cv2 = nn.ModuleList(
            nn.Sequential(Conv(c, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 4 * REG_MAX, 1)) for c in channels
        )
        if legacy:
            self.cv3 = nn.ModuleList(
                nn.Sequential(Conv(c, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, nc, 1)) for c in channels
            )
        else:
            self.cv3 = nn.ModuleList(
                nn.Sequential(
                    nn.Sequential(DWConv(c, c, 3), Conv(c, c3, 1)),
                    nn.Sequential(DWConv(c3, c3, 3), Conv(c3, c3, 1)),
                    nn.Conv2d(c3, nc, 1),
                )
                for c in channels
            )
        self.cv4 = nn.ModuleList(
            nn.Sequential(Conv(c, c4, 3), Conv(c4, c4, 3), nn.Conv2d(c4, self.nk, 1)) for c in channels
        )
        self.dfl = DFL(REG_MAX)

    def forward(self, maps: list[torch.Tensor]) -> torch.Tensor:
        shapes = [(int(m.shape[2]), int(m.shape[3])) for m in maps]
        return self.decode(self.raw(maps), shapes)

    def raw(self, maps: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The convolutions: box bins (B, 4*16, A), class logits (B, nc, A), raw keypoints (B, K*D, A)."""
        batch = maps[0].shape[0]
        box = torch.cat([b(m).view(batch, 4 * REG_MAX, -1) for b, m in zip(self.cv2, maps)], 2)
        cls = torch.cat([b(m).view(batch, self.nc, -1) for b, m in zip(self.cv3, maps)], 2)
        kpt = torch.cat([b(m).view(batch, self.nk, -1) for b, m in zip(self.cv4, maps)], 2)
        return box, cls, kpt

    def decode(self, raws: tuple[torch.Tensor, ...], shapes: list[tuple[int, int]]) -> torch.Tensor:
        """raw() of maps of these (H, W) per level -> forward()'s (B, 4 + nc + K*D, A) decoded output."""
        box, cls, kpt = raws
        anchors, strides = make_anchors(shapes, self.strides, box)
        dist = self.dfl(box)
        lt, rb = dist[:, :2], dist[:, 2:]
        x1y1, x2y2 = anchors.unsqueeze(0) - lt, anchors.unsqueeze(0) + rb
        xywh = torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * strides
        return torch.cat((xywh, cls.sigmoid(), self.decode_keypoints(kpt, anchors, strides)), 1)

    def decode_keypoints(
        self, kpt: torch.Tensor, anchors: torch.Tensor, strides: torch.Tensor
    ) -> torch.Tensor:
        """Raw (B, K*D, A) -> x = (2 raw + anchor - 0.5) * stride, y likewise, visibility sigmoid."""
        batch, _, count = kpt.shape
        dims = self.kpt_shape[1]
        points = kpt.view(batch, self.kpt_shape[0], dims, count)
        xy = (points[:, :, :2] * 2.0 + (anchors - 0.5).view(1, 1, 2, count)) * strides.view(1, 1, 1, count)
        parts = [xy] if dims == 2 else [xy, points[:, :, 2:3].sigmoid()]
        return torch.cat(parts, 2).view(batch, self.nk, count)
