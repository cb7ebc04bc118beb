"""Training losses by LOSS.TYPE and AlphaPose's `acc` (PCK on heatmap argmaxes or integral coordinates).

MSELoss: 0.5 * MSE of the masked heatmaps. L1JointRegression: the weighted L1 distance of the integral
coordinates to the targets, summed and divided by the batch size, with AlphaPose's symmetric integral
gradient. Combined: 100 x the heatmap loss of the body and feet + 0.01 x the L1 loss of face and hands.
"""

from __future__ import annotations

import numpy as np
import torch

from posekit.pose.decode import face_hand_joints
from posekit.pose.integral import NORM_TYPES

COMBINED_HEATMAP_WEIGHT = 100.0
COMBINED_INTEGRAL_WEIGHT = 0.01
INTEGRAL_AMPLITUDE = 2.0


def heatmap_loss(output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """0.5 * MSE(output * w, target * w), mean over every element (AlphaPose's MSELoss)."""
    return 0.5 * torch.nn.functional.mse_loss(output * weight, target * weight)


def _argmax_coords(heatmaps: torch.Tensor) -> torch.Tensor:
    """(N, K, h, w) -> (N, K, 2) argmax x, y; zeros where the peak is <= 0."""
    n, k, _, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1)
    peak, index = flat.max(dim=2)
    coords = torch.stack([index % w, index // w], dim=2).float()
    return coords * (peak > 0).unsqueeze(2)


def heatmap_accuracy(output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> float:
    """Mean over joints of the fraction of samples whose predicted peak is within 0.5 of norm=(w,h)/10.

    Only joints whose target peak lies at x > 1 and y > 1 count (masked joints have empty targets);
    joints with no valid sample are left out of the mean, which is 0 when no joint counts.
    """
    output = (output * weight).detach().float()
    target = (target * weight).detach().float()
    h, w = output.shape[2:]
    norm = torch.tensor([w / 10.0, h / 10.0])
    pred = _argmax_coords(output).cpu()
    gt = _argmax_coords(target).cpu()
    valid = (gt[..., 0] > 1) & (gt[..., 1] > 1)
    dist = torch.linalg.norm((pred - gt) / norm, dim=2)
    hits = ((dist < 0.5) & valid).sum(dim=0).float()
    counts = valid.sum(dim=0).float()
    defined = counts > 0
    if not defined.any():
        return 0.0
    return float((hits[defined] / counts[defined]).mean())


class _SymmetricIntegral(torch.autograd.Function):
    """Forward: p * index; backward: AlphaPose's symmetric gradient, AMPLITUDE x (-1 at indices below
    the integrated coordinate, +1 at and above it, +1 everywhere when the coordinate is past the end)."""

    @staticmethod
    def forward(ctx, prob: torch.Tensor) -> torch.Tensor:
        index = torch.arange(prob.shape[-1], dtype=prob.dtype, device=prob.device)
        out = prob * index
        ctx.save_for_backward(index, out.sum(dim=-1, keepdim=True))
        ctx.size = prob.shape[-1]
        return out

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        index, coord = ctx.saved_tensors
        mask = torch.where(index < coord, -1.0, 1.0).to(grad.dtype)
        mask = torch.where(coord > ctx.size, torch.ones_like(mask), mask)
        return grad * mask * INTEGRAL_AMPLITUDE


def _normalise(flat: torch.Tensor, norm_type: str) -> torch.Tensor:
    if norm_type == "softmax":
        return torch.softmax(flat, dim=-1)
    if norm_type == "sigmoid":
        return torch.sigmoid(flat)
    if norm_type == "divide_sum":
        return flat / flat.sum(dim=-1, keepdim=True)
    raise ValueError(f"norm type must be one of {NORM_TYPES}, got {norm_type!r}")


def integral_joints(maps: torch.Tensor, norm_type: str = "softmax") -> torch.Tensor:
    """Maps (N, K, h, w) -> (N, K*2) integral coordinates (x / w - 0.5, y / h - 0.5), differentiable
    with the symmetric integral gradient."""
    n, k, h, w = maps.shape
    prob = _normalise(maps.reshape(n, k, h * w), norm_type)
    prob = (prob / prob.sum(dim=-1, keepdim=True)).reshape(n, k, h, w)
    x = _SymmetricIntegral.apply(prob.sum(dim=2)).sum(dim=-1) / w - 0.5
    y = _SymmetricIntegral.apply(prob.sum(dim=3)).sum(dim=-1) / h - 0.5
    return torch.stack([x, y], dim=-1).reshape(n, k * 2)


def l1_joint_loss(
    output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, norm_type: str = "softmax"
) -> torch.Tensor:
    """AlphaPose's L1JointRegression: sum(|integral coords - target| * weight) / batch size."""
    pred = integral_joints(output.float(), norm_type)
    return ((pred - target).abs() * weight).sum() / len(output)


def integral_accuracy(
    output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, norm_type: str = "softmax"
) -> float:
    """AlphaPose's calc_integral_accuracy: PCK (0.5 of map size / 10) of the masked integral coordinates
    in map pixels; joints whose masked target lies at x <= 1 or y <= 1 do not count."""
    n, k, h, w = output.shape
    with torch.no_grad():
        pred = integral_joints(output.detach().float(), norm_type).reshape(n, k, 2).cpu().numpy()
    gt = target.detach().float().reshape(n, k, 2).cpu().numpy()
    mask = weight.detach().float().reshape(n, k, 2).cpu().numpy()
    scale = np.array([w, h], dtype=np.float64)
    pred = (pred + 0.5) * scale * mask
    gt = (gt + 0.5) * scale * mask
    valid = (gt[..., 0] > 1) & (gt[..., 1] > 1)
    dist = np.linalg.norm((pred - gt) / (scale / 10.0), axis=-1)
    counts = valid.sum(axis=0)
    defined = counts > 0
    if not defined.any():
        return 0.0
    hits = ((dist < 0.5) & valid).sum(axis=0)
    return float((hits[defined] / counts[defined]).mean())


def head_loss(
    loss_type: str, norm_type: str, output: torch.Tensor, targets, weights
) -> tuple[torch.Tensor, float]:
    """(loss, acc) of one batch for a head by LOSS.TYPE; the loss in fp32 (output may be autocast's).
    Combined takes (heatmap, integral) targets and weights and weighs acc by the joint counts of the two
    parts, as AlphaPose's train.py."""
    if loss_type == "MSELoss":
        return heatmap_loss(output.float(), targets, weights), heatmap_accuracy(output, targets, weights)
    if loss_type == "L1JointRegression":
        return l1_joint_loss(output, targets, weights, norm_type), integral_accuracy(
            output, targets, weights, norm_type
        )
    split = output.shape[1] - face_hand_joints(output.shape[1])
    body, rest = output[:, :split], output[:, split:]
    loss = COMBINED_HEATMAP_WEIGHT * heatmap_loss(body.float(), targets[0], weights[0])
    loss = loss + COMBINED_INTEGRAL_WEIGHT * l1_joint_loss(rest, targets[1], weights[1], norm_type)
    acc_body = heatmap_accuracy(body, targets[0], weights[0])
    acc_rest = integral_accuracy(rest, targets[1], weights[1], norm_type)
    total = body.shape[1] + rest.shape[1]
    return loss, (acc_body * body.shape[1] + acc_rest * rest.shape[1]) / total
