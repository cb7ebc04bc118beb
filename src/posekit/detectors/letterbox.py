"""Fitting an image into a square network input (aspect kept, padded) and mapping boxes back."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Placement:
    """Where an image landed in the network input: input_x = x * scale_x + offset_x (same for y)."""

    scale_x: float
    scale_y: float
    offset_x: int
    offset_y: int


def fit_image(
    image: np.ndarray, size: int, pad_value: int, centered: bool, interpolation: int
) -> tuple[np.ndarray, Placement]:
    """Resize `image` (H, W, 3) by min(size/W, size/H) and paste it on a size x size canvas of `pad_value`.

    The resized size is truncated to whole pixels as AlphaPose does; `centered` places the image in the
    middle (YOLOv3 letterbox), otherwise at the top-left corner (YOLOX).
    """
    height, width = image.shape[:2]
    ratio = min(size / width, size / height)
    new_w, new_h = max(int(width * ratio), 1), max(int(height * ratio), 1)
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    canvas = np.full((size, size, 3), pad_value, dtype=np.uint8)
    off_x, off_y = ((size - new_w) // 2, (size - new_h) // 2) if centered else (0, 0)
    canvas[off_y : off_y + new_h, off_x : off_x + new_w] = resized
    return canvas, Placement(new_w / width, new_h / height, off_x, off_y)


def boxes_to_image(boxes: np.ndarray, placement: Placement, image_hw: tuple[int, int]) -> np.ndarray:
    """Map xyxy boxes from network-input pixels back to the original image and clamp them to it.

    Clamping follows AlphaPose (YOLOv3-SPP and YOLOX alike): x to [0, W], y to [0, H].
    """
    out = np.asarray(boxes, dtype=np.float64).reshape(-1, 4).copy()
    out[:, [0, 2]] = (out[:, [0, 2]] - placement.offset_x) / placement.scale_x
    out[:, [1, 3]] = (out[:, [1, 3]] - placement.offset_y) / placement.scale_y
    out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, image_hw[1])
    out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, image_hw[0])
    return out.astype(np.float32)
