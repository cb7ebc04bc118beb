"""Network maps -> keypoints, by LOSS.TYPE as AlphaPose's writer does.

MSELoss: argmax + quarter offset (or a sub-pixel DARK-style refinement), scores = peak values.
L1JointRegression: integral regression (posekit.pose.integral). Combined: heatmap decode for the body and
feet, integral regression for the last `face_hand_joints` joints (42 for the 68-joint set, else 110).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.errors import ConfigError
from posekit.geometry import heatmap_to_image_coords
from posekit.pose.integral import integral_coords


def heatmap_peaks(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Argmax of each heatmap (N, K, h, w): coords (N, K, 2) as (x, y) and peak values (N, K).

    Coordinates are zeroed where the peak is <= 0 (AlphaPose)."""
    n, k, _, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1)
    index = flat.argmax(axis=2)
    peaks = np.take_along_axis(flat, index[..., None], axis=2)[..., 0]
    coords = np.stack([index % w, index // w], axis=2).astype(np.float64)
    coords[peaks <= 0] = 0.0
    return coords, peaks


def quarter_offset(heatmaps: np.ndarray, coords: np.ndarray) -> np.ndarray:
    """Move each peak 0.25 px toward its higher neighbour (x and y), strictly inside the map."""
    n, k, h, w = heatmaps.shape
    px = np.round(coords[..., 0]).astype(int)
    py = np.round(coords[..., 1]).astype(int)
    inside = (px > 1) & (px < w - 1) & (py > 1) & (py < h - 1)
    ni, ki = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
    xs, ys = np.clip(px, 1, w - 2), np.clip(py, 1, h - 2)
    dx = heatmaps[ni, ki, ys, xs + 1] - heatmaps[ni, ki, ys, xs - 1]
    dy = heatmaps[ni, ki, ys + 1, xs] - heatmaps[ni, ki, ys - 1, xs]
    out = coords.copy()
    out[..., 0] += np.where(inside, 0.25 * np.sign(dx), 0.0)
    out[..., 1] += np.where(inside, 0.25 * np.sign(dy), 0.0)
    return out


def _gaussian_taps(kernel: int) -> np.ndarray:
    """Normalised 1-D Gaussian of `kernel` taps with OpenCV's sigma for that size (DARK's blur)."""
    sigma = 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8
    x = np.arange(kernel) - kernel // 2
    taps = np.exp(-0.5 * x**2 / sigma**2)
    return taps / taps.sum()


def _smoothed_neighbourhoods(heatmaps: np.ndarray, xs: np.ndarray, ys: np.ndarray, kernel: int) -> np.ndarray:
    """Gaussian-smoothed (zero padding) values of the 3x3 pixels around each (xs, ys): (N, K, 3, 3).

    Only the (kernel + 2)^2 window of each peak is read, so the cost does not grow with the map size."""
    n, k = xs.shape
    radius = kernel // 2
    pad = radius + 1
    padded = np.pad(heatmaps, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    span = np.arange(kernel + 2)  # window rows/cols, relative to (peak - radius - 1)
    ni = np.arange(n)[:, None, None, None]
    ki = np.arange(k)[None, :, None, None]
    rows = ys[..., None, None] + span[:, None]  # padded row of (peak - radius - 1 + span)
    cols = xs[..., None, None] + span[None, :]
    windows = padded[ni, ki, rows, cols]  # (N, K, kernel + 2, kernel + 2)
    taps = _gaussian_taps(kernel)
    band = np.zeros((3, kernel + 2))
    for i in range(3):
        band[i, i : i + kernel] = taps
    return np.einsum("ia,nkab,jb->nkij", band, windows, band)


def taylor_refine(heatmaps: np.ndarray, coords: np.ndarray, kernel: int = 11) -> np.ndarray:
    """DARK-style sub-pixel peaks: Newton step on the log of the Gaussian-smoothed heatmap."""
    _, _, h, w = heatmaps.shape
    px = np.round(coords[..., 0]).astype(int)
    py = np.round(coords[..., 1]).astype(int)
    inside = (px >= 1) & (px < w - 1) & (py >= 1) & (py < h - 1)
    xs, ys = np.clip(px, 1, w - 2), np.clip(py, 1, h - 2)
    logs = np.log(np.maximum(_smoothed_neighbourhoods(heatmaps.astype(np.float64), xs, ys, kernel), 1e-10))

    def at(dy: int, dx: int) -> np.ndarray:
        return logs[..., 1 + dy, 1 + dx]

    center = at(0, 0)
    gx, gy = 0.5 * (at(0, 1) - at(0, -1)), 0.5 * (at(1, 0) - at(-1, 0))
    hxx, hyy = at(0, 1) - 2 * center + at(0, -1), at(1, 0) - 2 * center + at(-1, 0)
    hxy = 0.25 * (at(1, 1) - at(-1, 1) - at(1, -1) + at(-1, -1))
    det = hxx * hyy - hxy**2
    ok = inside & (np.abs(det) > 1e-12) & (hxx < 0) & (hyy < 0)
    safe = np.where(ok, det, 1.0)
    off_x = -(hyy * gx - hxy * gy) / safe
    off_y = -(hxx * gy - hxy * gx) / safe
    ok &= (np.abs(off_x) <= 1) & (np.abs(off_y) <= 1)
    out = coords.copy()
    out[..., 0] += np.where(ok, off_x, 0.0)
    out[..., 1] += np.where(ok, off_y, 0.0)
    return out


def decode_heatmaps(
    heatmaps: np.ndarray, crop_boxes: np.ndarray, subpixel: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Heatmaps (N, K, h, w) of crops -> image keypoints (N, K, 2) and scores (N, K) (raw peaks).

    Plain: AlphaPose's argmax + quarter offset. subpixel=True: Taylor refinement of the smoothed log map.
    """
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    if heatmaps.shape[0] == 0:
        return np.zeros((0, heatmaps.shape[1], 2)), np.zeros((0, heatmaps.shape[1]))
    coords, peaks = heatmap_peaks(heatmaps)
    valid = peaks > 0
    coords = taylor_refine(heatmaps, coords) if subpixel else quarter_offset(heatmaps, coords)
    coords[~valid] = 0.0
    h, w = heatmaps.shape[2:]
    return heatmap_to_image_coords(coords, np.asarray(crop_boxes), (h, w)), peaks.astype(np.float64)


def decode_integral(
    maps: np.ndarray, crop_boxes: np.ndarray, norm_type: str = "softmax"
) -> tuple[np.ndarray, np.ndarray]:
    """Maps (N, K, h, w) of crops -> image keypoints (N, K, 2) by integral regression, scores (N, K)."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.shape[0] == 0:
        return np.zeros((0, maps.shape[1], 2)), np.zeros((0, maps.shape[1]))
    coords, scores = integral_coords(maps, norm_type)
    return heatmap_to_image_coords(coords, np.asarray(crop_boxes), maps.shape[2:]), scores


def face_hand_joints(num_joints: int) -> int:
    """How many trailing joints a Combined head regresses (AlphaPose: 42 for 68 joints, else 110)."""
    return 42 if num_joints == 68 else 110


@dataclass(frozen=True)
class Decoder:
    """Decodes a batch of network maps by LOSS.TYPE; `subpixel` (sub-pixel decoding) applies to the
    heatmap part only."""

    loss_type: str = "MSELoss"
    norm_type: str = "softmax"
    subpixel: bool = False

    def __call__(self, maps: np.ndarray, crop_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Maps (N, K, h, w) and crop boxes (N, 4) -> image keypoints (N, K, 2), scores (N, K)."""
        if self.loss_type == "MSELoss":
            return decode_heatmaps(maps, crop_boxes, subpixel=self.subpixel)
        if self.loss_type == "L1JointRegression":
            return decode_integral(maps, crop_boxes, self.norm_type)
        if self.loss_type == "Combined":
            split = maps.shape[1] - face_hand_joints(maps.shape[1])
            body_xy, body_scores = decode_heatmaps(maps[:, :split], crop_boxes, subpixel=self.subpixel)
            rest_xy, rest_scores = decode_integral(maps[:, split:], crop_boxes, self.norm_type)
            return np.concatenate([body_xy, rest_xy], axis=1), np.concatenate(
                [body_scores, rest_scores], axis=1
            )
        raise ConfigError(
            f"LOSS.TYPE {self.loss_type!r} has no decoder (MSELoss, L1JointRegression, Combined)"
        )


def decoder_for_config(cfg, subpixel: bool = False) -> Decoder:
    """The decoder AlphaPose's get_func_heatmap_to_coord picks for a config (DATA_PRESET.TYPE 'simple')."""
    if cfg.data_preset.type != "simple":
        raise ConfigError(f"DATA_PRESET.TYPE {cfg.data_preset.type!r}: only 'simple' models can be decoded")
    return Decoder(cfg.loss.type, cfg.loss.norm, subpixel)
