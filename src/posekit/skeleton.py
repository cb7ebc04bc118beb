"""COCO-17 keypoints: names, flip pairs, limbs, OKS sigmas and AlphaPose's drawing colours.

Every other module takes skeleton facts from here.
"""

from __future__ import annotations

import numpy as np

KEYPOINT_NAMES: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
NUM_KEYPOINTS = len(KEYPOINT_NAMES)
KEYPOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(KEYPOINT_NAMES)}


def flip_pairs(names: tuple[str, ...] | list[str] = KEYPOINT_NAMES) -> list[tuple[int, int]]:
    """Left/right index pairs (0-based), found by swapping 'left' and 'right' in the names."""
    index = {name: i for i, name in enumerate(names)}
    pairs = []
    for i, name in enumerate(names):
        if "left" in name:
            j = index.get(name.replace("left", "right"))
            if j is not None:
                pairs.append((i, j))
    return pairs


FLIP_PAIRS: list[tuple[int, int]] = flip_pairs()

# COCO's own skeleton, 1-based, as in the COCO person category.
COCO_SKELETON_1BASED: list[list[int]] = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]  # fmt: skip
LIMBS: list[tuple[int, int]] = [(a - 1, b - 1) for a, b in COCO_SKELETON_1BASED]

# Per-keypoint OKS sigmas (pycocotools' defaults).
OKS_SIGMAS = (
    np.array(
        [0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87, 0.89, 0.89]
    )
    / 10.0
)

# AlphaPose drawing: a neck point (index 17, mean of the shoulders) and its limb list, colours in BGR.
NECK_INDEX = 17
RENDER_LIMBS: list[tuple[int, int]] = [
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (17, 11), (17, 12), (11, 13), (12, 14), (13, 15), (14, 16),
]  # fmt: skip
POINT_COLORS_BGR: list[tuple[int, int, int]] = [
    (0, 255, 255), (0, 191, 255), (0, 255, 102), (0, 77, 255), (0, 255, 0),
    (77, 255, 255), (77, 255, 204), (77, 204, 255), (191, 255, 77), (77, 191, 255), (191, 255, 77),
    (204, 77, 255), (77, 255, 204), (191, 77, 255), (77, 255, 191), (127, 77, 255), (77, 255, 127),
    (0, 255, 255),
]  # fmt: skip
LIMB_COLORS_BGR: list[tuple[int, int, int]] = [
    (0, 215, 255), (0, 255, 204), (0, 134, 255), (0, 255, 50),
    (77, 255, 222), (77, 196, 255), (77, 135, 255), (191, 255, 77), (77, 255, 77),
    (77, 222, 255), (255, 156, 127),
    (0, 127, 255), (255, 127, 77), (0, 77, 255), (255, 77, 36),
]  # fmt: skip
# Colour per track id (idx % 8): red, green, blue, cyan, yellow, orange, purple, white (BGR).
TRACK_COLORS_BGR: list[tuple[int, int, int]] = [
    (0, 0, 255), (0, 255, 0), (255, 0, 0), (255, 255, 0),
    (0, 255, 255), (0, 165, 255), (255, 0, 255), (255, 255, 255),
]  # fmt: skip
