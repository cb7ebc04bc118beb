"""Boxes, center/scale, the affine person crop, box IoU and greedy NMS, shared by every layer above.

Conventions follow AlphaPose: boxes are xyxy pixels, sizes are (H, W) where a config says so, a box
becomes a center and a (w, h) scale fixed to the input aspect ratio and enlarged 1.25x, and the crop
is the similarity transform that maps the center to the middle of the network input.
"""

from __future__ import annotations

import cv2
import numpy as np

# Mean subtracted per RGB channel after /255 (AlphaPose: no division by a std).
PIXEL_MEAN_RGB = np.array([0.406, 0.457, 0.480], dtype=np.float32)
SCALE_MULT = 1.25


def box_to_center_scale(
    x: float, y: float, w: float, h: float, aspect_ratio: float, scale_mult: float = SCALE_MULT
) -> tuple[np.ndarray, np.ndarray]:
    """xywh box -> (center, scale): scale is [w, h] widened to `aspect_ratio` (w/h), times scale_mult."""
    center = np.array([x + w * 0.5, y + h * 0.5], dtype=np.float64)
    if w > aspect_ratio * h:
        h = w / aspect_ratio
    elif w < aspect_ratio * h:
        w = h * aspect_ratio
    scale = np.array([w, h], dtype=np.float64) * scale_mult
    return center, scale


def center_scale_to_box(center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(center, scale) -> xyxy box covering exactly the crop."""
    w, h = float(scale[0]), float(scale[1])
    return np.array([center[0] - w * 0.5, center[1] - h * 0.5, center[0] + w * 0.5, center[1] + h * 0.5])


def get_affine_transform(
    center: np.ndarray,
    scale: np.ndarray,
    rot: float,
    output_size: tuple[int, int],
    inv: bool = False,
) -> np.ndarray:
    """2x3 matrix mapping the (center, scale) region, rotated by `rot` degrees, onto output_size (w, h).

    This is the similarity transform AlphaPose builds from three point pairs, in closed form: a uniform
    scale of out_w / scale_w, a rotation by -rot, and the center sent to the output's middle.
    With inv=True the matrix maps output pixels back to the image.
    """
    out_w, out_h = float(output_size[0]), float(output_size[1])
    s = out_w / float(scale[0])
    rad = np.deg2rad(rot)
    cs, sn = np.cos(rad), np.sin(rad)
    linear = s * np.array([[cs, sn], [-sn, cs]])
    if inv:
        linear_inv = np.array([[cs, -sn], [sn, cs]]) / s
        offset = np.asarray(center, dtype=np.float64) - linear_inv @ np.array([out_w * 0.5, out_h * 0.5])
        return np.hstack([linear_inv, offset[:, None]])
    offset = np.array([out_w * 0.5, out_h * 0.5]) - linear @ np.asarray(center, dtype=np.float64)
    return np.hstack([linear, offset[:, None]])


def affine_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a 2x3 affine matrix to points of shape (..., 2)."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def crop_person(
    image: np.ndarray, box_xyxy: np.ndarray, input_hw: tuple[int, int], scale_mult: float = SCALE_MULT
) -> tuple[np.ndarray, np.ndarray]:
    """Affine-crop one person to input_hw (H, W); returns (crop, crop_box xyxy in image pixels)."""
    inp_h, inp_w = input_hw
    x1, y1, x2, y2 = (float(v) for v in box_xyxy[:4])
    center, scale = box_to_center_scale(x1, y1, x2 - x1, y2 - y1, inp_w / inp_h, scale_mult)
    matrix = get_affine_transform(center, scale, 0.0, (inp_w, inp_h))
    crop = cv2.warpAffine(image, matrix, (int(inp_w), int(inp_h)), flags=cv2.INTER_LINEAR)
    return crop, center_scale_to_box(center, scale)


def normalize_crops(crops: np.ndarray) -> np.ndarray:
    """uint8 RGB crops (N, H, W, 3) -> float32 network input (N, 3, H, W): /255 minus the RGB mean."""
    batch = np.asarray(crops, dtype=np.float32) / 255.0
    batch -= PIXEL_MEAN_RGB
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2))


def crop_people(
    image: np.ndarray, boxes_xyxy: np.ndarray, input_hw: tuple[int, int], scale_mult: float = SCALE_MULT
) -> tuple[np.ndarray, np.ndarray]:
    """Crop every box of one RGB image: (uint8 crops (N, H, W, 3), crop boxes (N, 4) xyxy)."""
    inp_h, inp_w = input_hw
    crops = np.zeros((len(boxes_xyxy), inp_h, inp_w, 3), dtype=np.uint8)
    crop_boxes = np.zeros((len(boxes_xyxy), 4), dtype=np.float64)
    for i, box in enumerate(boxes_xyxy):
        crops[i], crop_boxes[i] = crop_person(image, box, input_hw, scale_mult)
    return crops, crop_boxes


def heatmap_to_image_coords(
    coords: np.ndarray, crop_boxes: np.ndarray, heatmap_hw: tuple[int, int]
) -> np.ndarray:
    """Heatmap coordinates (N, K, 2) -> image pixels, through each crop box (AlphaPose's inverse affine)."""
    hm_h, hm_w = heatmap_hw
    boxes = np.asarray(crop_boxes, dtype=np.float64)
    out = np.empty_like(coords, dtype=np.float64)
    out[..., 0] = boxes[:, None, 0] + coords[..., 0] * (boxes[:, None, 2] - boxes[:, None, 0]) / hm_w
    out[..., 1] = boxes[:, None, 1] + coords[..., 1] * (boxes[:, None, 3] - boxes[:, None, 1]) / hm_h
    return out


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of xyxy boxes: (N, 4) x (M, 4) -> (N, M); continuous coordinates (no +1), 0 where
    the union is empty."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=2)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(axis=1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


NMS_ROW_CHUNK = 1024  # IoU rows nms computes at once: bounds memory to NMS_ROW_CHUNK x N floats


def nms(boxes: np.ndarray, scores: np.ndarray, iou_thres: float) -> np.ndarray:
    """Greedy NMS over xyxy boxes: indices of kept boxes, highest score first.

    A box is dropped when its IoU with an already kept, higher-scoring box is > `iou_thres`.
    Ties in score keep the earlier index first (stable order), so results are deterministic.
    IoUs are computed a block of rows at a time; the greedy pass is one vector OR per kept box.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-scores, kind="stable")
    ranked = boxes[order]
    count = len(ranked)
    removed = np.zeros(count, dtype=bool)
    keep: list[int] = []
    for start in range(0, count, NMS_ROW_CHUNK):
        stop = min(start + NMS_ROW_CHUNK, count)
        overlaps = box_iou(ranked[start:stop], ranked[start:]) > iou_thres
        for i in range(start, stop):
            if not removed[i]:
                keep.append(i)
                removed[i + 1 :] |= overlaps[i - start, i + 1 - start :]
    return order[np.asarray(keep, dtype=np.int64)]
