"""Training loss and AlphaPose's `acc` (PCK on heatmap argmaxes)."""

from __future__ import annotations

import torch


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
