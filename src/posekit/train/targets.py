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
