"""Folding batch norm into the convolution before it (the detectors' and YOLO-pose networks' load step)."""

from __future__ import annotations

import torch
from torch import nn


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm that directly follows a conv (children named `conv`, `bn`) into
    the conv's weights and bias, in place; the network computes the same function with fewer ops."""
    for module in model.modules():
        conv, bn = getattr(module, "conv", None), getattr(module, "bn", None)
        if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)):
            continue
        scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
        with torch.no_grad():
            conv.weight.mul_(scale.view(-1, 1, 1, 1))
            conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias.detach())
        module.bn = nn.Identity()
    return model
