"""A real person crop to check an exported model against PyTorch (and to calibrate int8 models).

A user image (whole image as the box), else given people ((image, box) pairs: the benchmarks pass
coco-val-mini's), else the astronaut in scikit-image's sample photo (it ships inside its wheel).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from posekit.geometry import crop_person
from posekit.io.images import read_image_rgb

# The astronaut in scikit-image's sample photo (512 x 512), xyxy: head to the bottom edge, both arms.
ASTRONAUT_BOX = (20.0, 10.0, 370.0, 511.0)


def astronaut_person() -> tuple[np.ndarray, np.ndarray]:
    """scikit-image's astronaut photo (it ships inside its wheel) and the box of the person in it."""
    from posekit.io.images import sample_image_path

    return read_image_rgb(sample_image_path()), np.array(ASTRONAUT_BOX, dtype=np.float64)


def sample_crops_and_boxes(
    input_hw: tuple[int, int],
    count: int = 1,
    image_path: str | Path | None = None,
    people: Sequence[tuple[np.ndarray, np.ndarray]] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 RGB crops (count, H, W, 3) of real people, and their crop boxes (count, 4) (see the module doc).

    With fewer people than `count`, mirrored copies fill the rest (their boxes repeat).
    """
    if image_path is not None:
        image = read_image_rgb(image_path)
        sources = [(image, np.array([0, 0, image.shape[1], image.shape[0]], dtype=np.float64))]
    else:
        sources = list(people[:count]) or [astronaut_person()]
    pairs = [crop_person(image, box, input_hw) for image, box in sources]
    crops = [crop for crop, _ in pairs]
    boxes = [box for _, box in pairs]
    while len(crops) < count:
        crops.append(np.ascontiguousarray(crops[len(crops) % len(pairs)][:, ::-1]))
        boxes.append(boxes[len(boxes) % len(pairs)])
    return np.stack(crops[:count]), np.stack(boxes[:count])


def sample_crops(
    input_hw: tuple[int, int], count: int = 1, image_path: str | Path | None = None
) -> np.ndarray:
    """uint8 RGB crops (count, H, W, 3) of real people where available (see the module doc)."""
    return sample_crops_and_boxes(input_hw, count, image_path)[0]


def describe_source(image_path: str | Path | None = None) -> str:
    """Where sample_crops takes its people from, for messages."""
    if image_path is not None:
        return str(image_path)
    return "scikit-image's astronaut photo"
