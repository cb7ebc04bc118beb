"""Folding batch norm into the convolution before it (the detectors' and YOLO-pose networks' load step)."""

from __future__ import annotations

import torch
from torch import nn


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """Fold every eval-mode BatchNorm that directly follows a conv (children named `conv`, `bn`) into
    the conv's weights and bias, in place; the network computes the same function with fewer ops.
    A BatchNorm without running statistics normalises by each batch's own and stays as it is."""
    for module in model.modules():
        conv, bn = getattr(module, "conv", None), getattr(module, "bn", None)
        if not (isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d)):
            continue
        mean, var = bn.running_mean, bn.running_var
        if mean is None or var is None:
            continue
        scale = bn.weight.detach() / torch.sqrt(var + bn.eps)
        bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(mean)
        with torch.no_grad():
            conv.weight.mul_(scale.view(-1, 1, 1, 1))
            conv.bias = nn.Parameter((bias - mean) * scale + bn.bias.detach())
        module.bn = nn.Identity()
    return model
