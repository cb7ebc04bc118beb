"""BlazePose alignment geometry: two points (mid-hip centre, full-body scale point) -> rotation, MediaPipe's
region, and a rough body box."""

from __future__ import annotations

import numpy as np


def alignment_rotation(alignment: np.ndarray) -> np.ndarray:
    """Rotation in degrees (clockwise in the image) that turns the mid-hip -> scale-point vector upright,
    as MediaPipe's rotation_vector_target_angle_degrees: 90 does; (N, 2, 2) -> (N,)."""
    vector = alignment[:, 1] - alignment[:, 0]
    return np.rad2deg(np.pi / 2 - np.arctan2(-vector[:, 1], vector[:, 0]))


def alignment_region(alignment: np.ndarray) -> tuple[np.ndarray, float, float]:
    """MediaPipe's full-body region of one pair of alignment points (2, 2): centre (the mid-hip), side
    (2 x |scale point - mid-hip|) and rotation (degrees clockwise)."""
    side = 2.0 * float(np.linalg.norm(alignment[1] - alignment[0]))
    return np.asarray(alignment[0], dtype=np.float64), side, float(alignment_rotation(alignment[None])[0])


def alignment_to_box(alignment: np.ndarray, extent: tuple[float, float, float]) -> np.ndarray:
    """Full-body xyxy boxes from alignment points (N, 2, 2).

    The mid-hip centre c and the scale point p give the body axis u = (p - c) / |p - c| and the size
    d = |p - c| (MediaPipe's full-body ROI is the square of side 2d around c). The body is taken as the
    rectangle from c - down*d*u to c + up*d*u, half_width*d either side of the axis, where
    extent = (up, down, half_width); the box is that rectangle's axis-aligned hull.
    """
    up, down, half_width = extent
    centre = alignment[:, 0]
    vector = alignment[:, 1] - centre
    size = np.linalg.norm(vector, axis=1, keepdims=True)
    axis = vector / np.maximum(size, 1e-9)
    normal = np.stack([-axis[:, 1], axis[:, 0]], axis=1)
    corners = [
        centre + sign_a * half_width * size * normal + along * size * axis
        for sign_a in (-1.0, 1.0)
        for along in (up, -down)
    ]
    stacked = np.stack(corners, axis=1)
    return np.concatenate([stacked.min(axis=1), stacked.max(axis=1)], axis=1)


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """xyxy boxes clipped to the image (so overlaps are measured on what is in the picture)."""
    boxes = boxes.copy()
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, width - 1)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, height - 1)
    return boxes
