"""BlazePose person detector (the embedded default detector), run with LiteRT.

Decoding follows MediaPipe's pose_detection graph (google-ai-edge/mediapipe,
mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt): letterboxed 224x224 input in [-1, 1], SSD anchors
(5 layers, strides 8/16/32/32/32, offsets 0.5, fixed size, 2 anchors per layer -> 2254), raw boxes as
x/y/w/h scaled by 224 around the anchor centres, 4 alignment keypoints (0 mid-hip, 1 full-body size and
rotation point, 2 mid-shoulder, 3 upper-body point), sigmoid scores clipped at +-100, and weighted NMS
(IoU > 0.3 on the detection box). Unlike MediaPipe's single-pose graph every person above the threshold
is kept, and the image is also scanned in overlapping tiles so that small people are found.
The person box comes from the alignment keypoints: by default from one landmark pass on MediaPipe's
region of them (the hull of the landmarks present), else (refine=False) from `alignment_to_box`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from posekit.errors import PosekitError
from posekit.types import Detections

INPUT_SIZE = 224
STRIDES = (8, 16, 32, 32, 32)
ANCHOR_OFFSET = 0.5
RAW_SCALE = 224.0  # x_scale = y_scale = w_scale = h_scale
SCORE_CLIP = 100.0
NUM_KEYPOINTS = 4


def load_interpreter(path: Path, num_threads: int | None = None):
    """A LiteRT interpreter for one .tflite file, tensors allocated."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(path), num_threads=num_threads)
    except (ValueError, RuntimeError) as exc:
        raise PosekitError(f"{path}: not a valid TFLite model ({exc})") from exc
    interpreter.allocate_tensors()
    return interpreter


@lru_cache(maxsize=1)
def ssd_anchors() -> np.ndarray:
    """Anchor centres (2254, 2) in [0, 1] as MediaPipe's SsdAnchorsCalculator builds them.

    Consecutive layers with the same stride share one feature map; each layer adds two anchors per cell
    (aspect ratio 1 and the interpolated scale). fixed_anchor_size makes every anchor 1 x 1.
    """
    centres = []
    layer = 0
    while layer < len(STRIDES):
        per_cell = 0
        last = layer
        while last < len(STRIDES) and STRIDES[last] == STRIDES[layer]:
            per_cell += 2
            last += 1
        size = int(np.ceil(INPUT_SIZE / STRIDES[layer]))
        ys, xs = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
        grid = np.stack([(xs + ANCHOR_OFFSET) / size, (ys + ANCHOR_OFFSET) / size], axis=-1).reshape(-1, 2)
        centres.append(np.repeat(grid, per_cell, axis=0))
        layer = last
    return np.concatenate(centres).astype(np.float32)


def letterbox(image: np.ndarray) -> tuple[np.ndarray, float, float, float]:
    """RGB uint8 -> (1, 224, 224, 3) float32 in [-1, 1], aspect kept, centred, zero border; plus the
    scale and x/y padding that map input pixels back to the image: image = (input - pad) / scale."""
    height, width = image.shape[:2]
    scale = INPUT_SIZE / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interp)
    pad_x, pad_y = (INPUT_SIZE - new_w) // 2, (INPUT_SIZE - new_h) // 2
    tensor = np.full((INPUT_SIZE, INPUT_SIZE, 3), -1.0, dtype=np.float32)
    tensor[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized.astype(np.float32) / 127.5 - 1.0
    return tensor[None], new_w / width, float(pad_x), float(pad_y)


def decode(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model outputs (2254, 12), (2254,) -> scores (M,), boxes (M, 4) xyxy and keypoints (M, 4, 2), all in
    224-input pixels, for the anchors scoring at least `threshold`."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
    keep = scores >= threshold
    raw, anchors = raw_boxes[keep], ssd_anchors()[keep] * INPUT_SIZE
    centre = raw[:, :2] / RAW_SCALE * INPUT_SIZE + anchors
    half = raw[:, 2:4] / RAW_SCALE * INPUT_SIZE / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:12].reshape(-1, NUM_KEYPOINTS, 2) / RAW_SCALE * INPUT_SIZE + anchors[:, None]
    valid = (half >= 0).all(axis=1)  # MediaPipe drops only negative sizes
    return scores[keep][valid], boxes[valid], keypoints[valid]


def _iou_one(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    lt = np.maximum(box[:2], boxes[:, :2])
    rb = np.minimum(box[2:], boxes[:, 2:])
    inter = np.clip(rb - lt, 0, None).prod(axis=1)
    area = (box[2:] - box[:2]).prod()
    areas = (boxes[:, 2:] - boxes[:, :2]).prod(axis=1)
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(
    scores: np.ndarray, boxes: np.ndarray, keypoints: np.ndarray, iou_threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MediaPipe's WEIGHTED non-max suppression: the best remaining detection absorbs every detection
    overlapping it by IoU > threshold (itself included); its box and keypoints become their
    score-weighted mean, its score stays the best score."""
    order = np.argsort(-scores, kind="stable")
    out_scores, out_boxes, out_keypoints = [], [], []
    while order.size:
        top = order[0]
        overlap = _iou_one(boxes[top], boxes[order]) > iou_threshold
        members = order[overlap]
        weights = scores[members][:, None]
        total = weights.sum()
        out_scores.append(scores[top])
        out_boxes.append((boxes[members] * weights).sum(axis=0) / total)
        out_keypoints.append((keypoints[members] * weights[:, :, None]).sum(axis=0) / total)
        order = order[~overlap]
    if not out_scores:
        return np.zeros((0,), np.float32), np.zeros((0, 4), np.float32), np.zeros((0, NUM_KEYPOINTS, 2))
    return np.array(out_scores), np.array(out_boxes), np.array(out_keypoints)


def _clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """xyxy boxes clipped to the image (so overlaps are measured on what is in the picture)."""
    boxes = boxes.copy()
    boxes[:, 0::2] = boxes[:, 0::2].clip(0, width - 1)
    boxes[:, 1::2] = boxes[:, 1::2].clip(0, height - 1)
    return boxes


def _suppress(scores: np.ndarray, boxes: np.ndarray, iou_threshold: float) -> list[int]:
    """Plain NMS: indices kept, best first; a box overlapping a kept one by IoU > threshold is dropped."""
    kept: list[int] = []
    for index in np.argsort(-scores, kind="stable"):
        if not kept or _iou_one(boxes[index], boxes[kept]).max() <= iou_threshold:
            kept.append(int(index))
    return kept


def alignment_rotation(alignment: np.ndarray) -> np.ndarray:
    """Rotation in degrees (clockwise in the image) that turns the mid-hip -> scale-point vector upright,
    as MediaPipe's rotation_vector_target_angle_degrees: 90 does; (N, 2, 2) -> (N,)."""
    vector = alignment[:, 1] - alignment[:, 0]
    return np.rad2deg(np.pi / 2 - np.arctan2(-vector[:, 1], vector[:, 0]))


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


def tile_windows(
    width: int, height: int, fractions: Sequence[float], overlap: float = 0.5
) -> list[tuple[int, int, int, int]]:
    """Square-ish windows (x0, y0, w, h): for each fraction f of the long side, a grid of f-sized windows
    overlapping by `overlap` that covers the image (f = 1 is the whole image)."""
    windows = []
    longest = max(width, height)
    for fraction in fractions:
        side = max(1, round(longest * fraction))
        win_w, win_h = min(side, width), min(side, height)
        step_w, step_h = max(1.0, win_w * (1 - overlap)), max(1.0, win_h * (1 - overlap))
        count_x = 1 + int(np.ceil(max(0, width - win_w) / step_w))
        count_y = 1 + int(np.ceil(max(0, height - win_h) / step_h))
        for iy in range(count_y):
            for ix in range(count_x):
                x0 = 0 if count_x == 1 else round(ix * (width - win_w) / (count_x - 1))
                y0 = 0 if count_y == 1 else round(iy * (height - win_h) / (count_y - 1))
                windows.append((x0, y0, win_w, win_h))
    return list(dict.fromkeys(windows))


class BlazePoseDetector:
    """The embedded default person detector (BlazePose detection, Apache-2.0, from the mediapipe wheel).

    Options: score_threshold (MediaPipe's legacy graph 0.2, its Tasks API 0.5; 0.5 measured best here),
    nms_threshold (weighted NMS, 0.3), tiles (fractions of the long image side scanned in overlapping
    windows; (1.0,) is MediaPipe's single full-image pass), refine (box from one landmark pass; people
    whose pose flag is below presence_threshold are dropped), box_nms_threshold (plain NMS of the final
    boxes), box_margin (padding of the landmark hull), box_extent ((up, down, half_width) of the rough
    body box in alignment sizes, an anatomical guess used for refine=False and the pre-NMS), num_threads.
    `device`, `tracking`, `backend` and `precision` are accepted for the common constructor and ignored
    (LiteRT runs on the CPU; the score threshold stays the same while tracking).
    """

    def __init__(
        self,
        name: str = "blazepose",
        weights: str | None = None,
        device: str = "cpu",
        score_threshold: float = 0.5,
        nms_threshold: float = 0.3,
        tiles: Sequence[float] = (1.0, 0.6, 0.4),
        box_extent: tuple[float, float, float] = (1.05, 1.15, 0.45),
        refine: bool = True,
        presence_threshold: float = 0.5,
        box_nms_threshold: float = 0.5,
        box_margin: float = 0.1,
        num_threads: int | None = None,
        tracking: bool = False,
        backend: str = "auto",
        precision: str = "auto",
        **options: Any,
    ) -> None:
        if options:
            raise PosekitError(f"blazepose detector: unknown option(s) {', '.join(sorted(options))}")
        self.name = name
        if weights:
            path = Path(weights).expanduser()
            if not path.is_file():
                raise PosekitError(f"blazepose detector weights not found: {path}")
        else:
            from posekit.modelstore import ensure_default_model

            path = ensure_default_model()["detector"]
        self.score_threshold = float(score_threshold)
        self.nms_threshold = float(nms_threshold)
        self.tiles = tuple(float(t) for t in tiles)
        self.box_extent = tuple(float(v) for v in box_extent)
        self.presence_threshold = float(presence_threshold)
        self.box_nms_threshold = float(box_nms_threshold)
        self.box_margin = float(box_margin)
        self._landmarks = None
        if refine:
            from posekit.pose.blazepose import BlazePoseLandmarkModel

            self._landmarks = BlazePoseLandmarkModel(crop_scales=(1.5,), num_threads=num_threads)
        self._interpreter = load_interpreter(path, num_threads)
        outputs = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._boxes_out, self._scores_out = outputs[(1, 2254, 12)], outputs[(1, 2254, 1)]

    def _run(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One letterboxed pass: scores, boxes and keypoints in this image's pixels."""
        tensor, scale, pad_x, pad_y = letterbox(image)
        self._interpreter.set_tensor(self._input, tensor)
        self._interpreter.invoke()
        raw_boxes = self._interpreter.get_tensor(self._boxes_out)[0]
        raw_scores = self._interpreter.get_tensor(self._scores_out)[0, :, 0]
        scores, boxes, keypoints = decode(raw_boxes, raw_scores, self.score_threshold)
        pad = np.array([pad_x, pad_y])
        boxes = (boxes - np.tile(pad, 2)) / scale
        keypoints = (keypoints - pad) / scale
        return scores, boxes, keypoints

    def detect_one(self, image: np.ndarray) -> Detections:
        """All people in one RGB uint8 image."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise PosekitError(f"blazepose detector needs RGB uint8 (H, W, 3) images, got {image.shape}")
        height, width = image.shape[:2]
        parts = []
        for x0, y0, win_w, win_h in tile_windows(width, height, self.tiles):
            scores, boxes, keypoints = self._run(image[y0 : y0 + win_h, x0 : x0 + win_w])
            offset = np.array([x0, y0], dtype=np.float64)
            parts.append((scores, boxes + np.tile(offset, 2), keypoints + offset))
        scores = np.concatenate([p[0] for p in parts])
        boxes = np.concatenate([p[1] for p in parts])
        keypoints = np.concatenate([p[2] for p in parts])
        scores, _, keypoints = weighted_nms(scores, boxes, keypoints, self.nms_threshold)
        if not len(scores):
            empty = Detections.empty()
            empty.extras["rotations"] = np.zeros((0,))
            return empty
        alignment = keypoints[:, :2]
        if self._landmarks is not None:
            scores, body, alignment = self._refine(image, scores, alignment)
        else:
            body = _clip_boxes(alignment_to_box(alignment, self.box_extent), width, height)
        return Detections(
            body.astype(np.float32), scores.astype(np.float32), {"rotations": alignment_rotation(alignment)}
        )

    def _refine(
        self, image: np.ndarray, scores: np.ndarray, alignment: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """MediaPipe's detection -> landmarks -> box step: one landmark pass on each detection's aligned
        region; people whose pose flag is below presence_threshold are dropped, the box becomes the hull of
        the landmarks present (plus box_margin), and overlapping boxes (IoU > box_nms_threshold) keep the
        higher score. The same NMS on the rough alignment boxes first saves passes on duplicates."""
        height, width = image.shape[:2]
        rough = _clip_boxes(alignment_to_box(alignment, self.box_extent), width, height)
        first = _suppress(scores, rough, self.box_nms_threshold)
        keep_scores, keep_boxes, keep_alignment = [], [], []
        for score, points in zip(scores[first], alignment[first]):
            landmarks, flag, present = self._landmarks.landmarks_in_region(image, points)
            if flag < self.presence_threshold or present.sum() < 2:
                continue
            body = landmarks[present]
            low, high = body.min(axis=0), body.max(axis=0)
            pad = (high - low) * self.box_margin
            keep_scores.append(score)
            keep_boxes.append(np.concatenate([low - pad, high + pad]))
            keep_alignment.append(points)
        if not keep_scores:
            return np.zeros((0,)), np.zeros((0, 4)), np.zeros((0, 2, 2))
        scores, alignment = np.array(keep_scores), np.array(keep_alignment)
        boxes = _clip_boxes(np.array(keep_boxes), width, height)
        kept = _suppress(scores, boxes, self.box_nms_threshold)
        return scores[kept], boxes[kept], alignment[kept]

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detect people in each RGB uint8 image."""
        return [self.detect_one(image) for image in images]
