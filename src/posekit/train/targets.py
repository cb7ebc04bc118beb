"""Training targets: unnormalised Gaussian heatmaps with per-joint weights (AlphaPose's rules)."""

from __future__ import annotations

import numpy as np


def gaussian_targets(
    joints: np.ndarray,
    visible: np.ndarray,
    heatmap_hw: tuple[int, int],
    input_hw: tuple[int, int],
    sigma: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Heatmaps (K, h, w) with peak 1 at round(joint / stride) and weights (K, 1, 1).

    The Gaussian is cut to a (2*3σ+1)² window; a joint whose window lies fully outside the map, or
    that is not visible, gets weight 0. (AlphaPose keeps weight 1 when the window only touches the
    map's edge from outside, training an empty target for a visible joint; here it gets weight 0.)
    """
    hm_h, hm_w = heatmap_hw
    stride_x, stride_y = input_hw[1] / hm_w, input_hw[0] / hm_h
    num = len(joints)
    target = np.zeros((num, hm_h, hm_w), dtype=np.float32)
    weight = (np.asarray(visible, dtype=np.float32) > 0).astype(np.float32).reshape(num, 1, 1)
    radius = int(sigma * 3)
    xs = np.arange(hm_w, dtype=np.float32)
    ys = np.arange(hm_h, dtype=np.float32)
    for k in range(num):
        if weight[k, 0, 0] == 0:
            continue
        mu_x = int(joints[k, 0] / stride_x + 0.5)
        mu_y = int(joints[k, 1] / stride_y + 0.5)
        if mu_x - radius >= hm_w or mu_y - radius >= hm_h or mu_x + radius < 0 or mu_y + radius < 0:
            weight[k] = 0
            continue
        gx = np.exp(-((xs - mu_x) ** 2) / (2 * sigma**2)) * (np.abs(xs - mu_x) <= radius)
        gy = np.exp(-((ys - mu_y) ** 2) / (2 * sigma**2)) * (np.abs(ys - mu_y) <= radius)
        target[k] = gy[:, None] * gx[None, :]
    return target, weight


def body_weight_joints(num_joints: int) -> int:
    """How many leading joints AlphaPose's integral targets weigh twice: the 26 body and feet joints of
    Halpe-136 and Halpe-68, the 23 of COCO-WholeBody-133; none for other sets."""
    return {136: 26, 133: 23, 68: 26}.get(num_joints, 0)


def integral_targets(
    joints: np.ndarray, visible: np.ndarray, input_hw: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Integral-regression targets (K*2,) = (x / input_w - 0.5, y / input_h - 0.5) per joint, and their
    weights (K*2,) = visibility (twice for the body joints of the whole-body sets, body_weight_joints)."""
    inp_h, inp_w = input_hw
    num = len(joints)
    target = np.stack([joints[:, 0] / inp_w - 0.5, joints[:, 1] / inp_h - 0.5], axis=1).astype(np.float32)
    weight = np.repeat((np.asarray(visible, dtype=np.float32) > 0).astype(np.float32)[:, None], 2, axis=1)
    weight[: body_weight_joints(num)] *= 2
    return target.reshape(-1), weight.reshape(-1)


def head_targets(
    loss_type: str,
    joints: np.ndarray,
    visible: np.ndarray,
    heatmap_hw: tuple[int, int],
    input_hw: tuple[int, int],
    sigma: float,
):
    """The targets and weights of one sample for a head by LOSS.TYPE: Gaussian heatmaps (MSELoss),
    integral targets (L1JointRegression), or both, split as the Combined head decodes: heatmaps for the
    body and feet, integral targets for the last 110 joints (42 of the 68-joint set)."""
    if loss_type == "L1JointRegression":
        return integral_targets(joints, visible, input_hw)
    if loss_type == "Combined":
        split = len(joints) - (42 if len(joints) == 68 else 110)
        hm, hm_weight = gaussian_targets(joints[:split], visible[:split], heatmap_hw, input_hw, sigma)
        coords, coord_weight = integral_targets(joints[split:], visible[split:], input_hw)
        return (hm, coords), (hm_weight, coord_weight)
    return gaussian_targets(joints, visible, heatmap_hw, input_hw, sigma)
