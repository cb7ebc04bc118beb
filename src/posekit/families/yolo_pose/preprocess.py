"""YOLO-pose input: the letterbox (aspect kept, grey 114 padding, centred) and the float32 NCHW batch."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_VALUE = 114


@dataclass(frozen=True)
class Letterbox:
    """How an image of (height, width) was placed into a network input of (input_h, input_w)."""

    height: int
    width: int
    input_h: int
    input_w: int


def letterbox_shape(height: int, width: int, size: int, stride: int, auto: bool) -> tuple[int, int, int, int]:
    """(new_h, new_w, input_h, input_w): the resized image inside a size x size input, or, with `auto`,
    inside the smallest stride-multiple rectangle that holds it (Ultralytics' rect letterbox)."""
    ratio = min(size / height, size / width)
    new_w, new_h = max(round(width * ratio), 1), max(round(height * ratio), 1)
    pad_w, pad_h = size - new_w, size - new_h
    if auto:
        pad_w, pad_h = pad_w % stride, pad_h % stride
    return new_h, new_w, new_h + pad_h, new_w + pad_w


def letterbox(
    image: np.ndarray, size: int = 640, stride: int = 32, auto: bool = True
) -> tuple[np.ndarray, Letterbox]:
    """An RGB uint8 image (H, W, 3) resized (bilinear) and padded with 114 to the network input (HWC uint8).

    The odd padding pixel goes to the bottom/right, as Ultralytics' LetterBox does.
    """
    height, width = image.shape[:2]
    new_h, new_w, input_h, input_w = letterbox_shape(height, width, size, stride, auto)
    half_w, half_h = (input_w - new_w) / 2, (input_h - new_h) / 2
    top, bottom = round(half_h - 0.1), round(half_h + 0.1)
    left, right = round(half_w - 0.1), round(half_w + 0.1)
    if (new_w, new_h) != (width, height):
        image = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    padded = cv2.copyMakeBorder(
        image, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE, PAD_VALUE, PAD_VALUE)
    )
    return padded, Letterbox(height, width, input_h, input_w)


def to_input(letterboxed: list[np.ndarray]) -> np.ndarray:
    """Letterboxed RGB uint8 images (all the same size) -> the float32 NCHW batch in 0..1."""
    batch = np.stack(letterboxed).transpose(0, 3, 1, 2)
    return np.ascontiguousarray(batch, dtype=np.float32) / np.float32(255.0)


def preprocess(
    images: list[np.ndarray], size: int = 640, stride: int = 32, auto: bool = True
) -> tuple[np.ndarray, list[Letterbox]]:
    """RGB uint8 images -> (float32 NCHW batch, each image's Letterbox).

    `auto` (the minimal stride-multiple rectangle) applies only when all images share one shape;
    otherwise, and for a fixed-size network (auto=False), every image is padded to size x size.
    """
    auto = auto and len({image.shape[:2] for image in images}) == 1
    placed = [letterbox(image, size, stride, auto) for image in images]
    return to_input([p[0] for p in placed]), [p[1] for p in placed]
