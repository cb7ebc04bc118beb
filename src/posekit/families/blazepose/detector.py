"""BlazePose person detector (the embedded default detector), run with LiteRT.

Letterboxed 224x224 input in [-1, 1] decoded as MediaPipe does (`ssd`). Unlike MediaPipe's single-pose
graph every person above the threshold is kept, and the image is also scanned in overlapping tiles so
that small people are found; a person the whole-image pass finds keeps that pass's detection, as
MediaPipe's. The person box comes from the alignment keypoints: by default from one landmark pass on
MediaPipe's region of them (which may reach past the image's edges; the hull of the landmarks present,
or of all landmarks when the pass puts the person partly outside the image), whose COCO keypoints and
scores travel on in the detections (marked second_opinion) so the pose model need not run it again; else
(landmark_boxes=False) from `alignment_to_box`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from posekit.errors import PosekitError
from posekit.families.blazepose.alignment import alignment_rotation, alignment_to_box, clip_boxes
from posekit.families.blazepose.landmarks import DEFAULT_THREADS, BlazePoseLandmarkModel
from posekit.families.blazepose.litert import shared_interpreter
from posekit.families.blazepose.ssd import INPUT_SIZE, decode, weighted_nms
from posekit.geometry import box_iou
from posekit.io.images import checked_rgb_uint8
from posekit.types import Detections

NUM_ANCHORS = 2254
# The tiles of detect_thorough (a tracked video's detection frames): quarter-side tiles find far-away
# people the default tiles miss (benchmarks/track_e2e.py: recall 0.21 -> 0.36 on the PoseTrack pan, each
# such frame about 2.5x the passes).
THOROUGH_TILES = (1.0, 0.6, 0.4, 0.25)
SAMPLINGS = ("area", "mediapipe")
# One pass's detections: scores, boxes and keypoints in image pixels (BlazePoseDetector._run).
Part = tuple[np.ndarray, np.ndarray, np.ndarray]


def letterbox(image: np.ndarray, sampling: str = "area") -> tuple[np.ndarray, float, float, float]:
    """RGB uint8 -> (1, 224, 224, 3) float32 in [-1, 1], aspect kept, centred, black border; plus the
    scale and x/y padding that map input pixels back to the image: image = (input - pad) / scale.

    sampling "area": resized with area averaging (cv2.INTER_AREA when shrinking), whole-pixel padding;
    "mediapipe": as MediaPipe's ImageToTensorCalculator (keep_aspect_ratio, BORDER_ZERO) makes it, the
    image centred in a square of its long side whose corners map to the input's corners, sampled
    bilinearly without averaging."""
    height, width = image.shape[:2]
    if sampling == "mediapipe":
        side = max(height, width)
        scale = INPUT_SIZE / side
        pad_x, pad_y = (side - width) / 2 * scale, (side - height) / 2 * scale
        matrix = np.array([[scale, 0.0, pad_x], [0.0, scale, pad_y]])
        size = (INPUT_SIZE, INPUT_SIZE)
        warped = cv2.warpAffine(image, matrix, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        return (warped.astype(np.float32) / 127.5 - 1.0)[None], scale, pad_x, pad_y
    scale = INPUT_SIZE / max(height, width)
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interp)
    pad_x, pad_y = (INPUT_SIZE - new_w) // 2, (INPUT_SIZE - new_h) // 2
    tensor = np.full((INPUT_SIZE, INPUT_SIZE, 3), -1.0, dtype=np.float32)
    tensor[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized.astype(np.float32) / 127.5 - 1.0
    return tensor[None], new_w / width, float(pad_x), float(pad_y)


def _suppress(scores: np.ndarray, boxes: np.ndarray, iou_threshold: float) -> list[int]:
    """Plain NMS: indices kept, best first; a box overlapping a kept one by IoU > threshold is dropped."""
    kept: list[int] = []
    for index in np.argsort(-scores, kind="stable"):
        if not kept or box_iou(boxes[index], boxes[kept]).max() <= iou_threshold:
            kept.append(int(index))
    return kept


def tile_windows(
    width: int, height: int, fractions: Sequence[float], overlap: float = 0.5, slack: float = 0.0
) -> list[tuple[int, int, int, int]]:
    """Square-ish windows (x0, y0, w, h): for each fraction f of the long side, a grid of f-sized windows
    overlapping by `overlap` that covers the image (f = 1 is the whole image). A side that would leave
    no more than `slack` x the window's side uncovered is stretched over the whole image instead of
    adding a near-copy of the window shifted by that sliver."""
    windows = []
    longest = max(width, height)
    for fraction in fractions:
        side = max(1, round(longest * fraction))
        win_w, win_h = min(side, width), min(side, height)
        if width - win_w <= slack * side:
            win_w = width
        if height - win_h <= slack * side:
            win_h = height
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
    windows; (1.0,) is MediaPipe's single full-image pass), thorough_tiles (those of detect_thorough),
    tile_overlap, tile_slack (see tile_windows), landmark_boxes (box and pose from one landmark pass;
    people whose pose flag is below presence_threshold are dropped), region_scale (that pass's region in
    MediaPipe region sides; 1.25 is MediaPipe's), box_nms_threshold (plain NMS of the final boxes),
    box_margin (padding of the landmark hull), box_extent ((up, down, half_width) of the rough body box
    in alignment sizes, an anatomical guess used for landmark_boxes=False, the pre-NMS and matching tile
    detections to whole-image ones), sampling (how the 224x224 input is resampled, see letterbox:
    "area", or "mediapipe" for MediaPipe's own bilinear sampling), num_threads (LiteRT threads).
    `device` and `tracking` are accepted for the common constructor and ignored (LiteRT runs on the
    CPU; the score threshold stays the same while tracking).
    """

    def __init__(
        self,
        name: str = "blazepose",
        weights: str | None = None,
        device: str = "cpu",
        score_threshold: float = 0.5,
        nms_threshold: float = 0.3,
        tiles: Sequence[float] = (1.0, 0.6, 0.4),
        thorough_tiles: Sequence[float] = THOROUGH_TILES,
        tile_overlap: float = 0.25,
        tile_slack: float = 0.15,
        box_extent: tuple[float, float, float] = (1.05, 1.15, 0.45),
        landmark_boxes: bool = True,
        presence_threshold: float = 0.5,
        box_nms_threshold: float = 0.5,
        box_margin: float = 0.1,
        region_scale: float = 1.25,
        sampling: str = "area",
        num_threads: int | None = DEFAULT_THREADS,
        tracking: bool = False,
        backend: str = "auto",
        precision: str = "auto",
        **options: Any,
    ) -> None:
        del backend, precision  # the common constructor's runtime choice; LiteRT runs this family
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
        self.thorough_tiles = tuple(float(t) for t in thorough_tiles)
        self.tile_overlap = float(tile_overlap)
        self.tile_slack = float(tile_slack)
        up, down, half_width = box_extent
        self.box_extent = (float(up), float(down), float(half_width))
        self.presence_threshold = float(presence_threshold)
        self.box_nms_threshold = float(box_nms_threshold)
        self.box_margin = float(box_margin)
        if sampling not in SAMPLINGS:
            raise PosekitError(
                f"blazepose detector: sampling must be one of {', '.join(SAMPLINGS)}, not {sampling!r}"
            )
        self.sampling = sampling
        self._landmarks = None
        if landmark_boxes:
            scales = (float(region_scale),)
            self._landmarks = BlazePoseLandmarkModel(crop_scales=scales, num_threads=num_threads)
        self._shared = shared_interpreter(path, num_threads)
        self._interpreter = self._shared.interpreter
        outputs = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._boxes_out, self._scores_out = outputs[(1, NUM_ANCHORS, 12)], outputs[(1, NUM_ANCHORS, 1)]

    def _run(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One letterboxed pass: scores, boxes and keypoints in this image's pixels."""
        tensor, scale, pad_x, pad_y = letterbox(image, self.sampling)
        with self._shared.lock:
            self._interpreter.set_tensor(self._input, tensor)
            self._interpreter.invoke()
            raw_boxes = self._interpreter.get_tensor(self._boxes_out)[0]
            raw_scores = self._interpreter.get_tensor(self._scores_out)[0, :, 0]
        scores, boxes, keypoints = decode(raw_boxes, raw_scores, self.score_threshold)
        pad = np.array([pad_x, pad_y])
        boxes = (boxes - np.tile(pad, 2)) / scale
        keypoints = (keypoints - pad) / scale
        return scores, boxes, keypoints

    def detect_one(self, image: np.ndarray, tiles: Sequence[float] | None = None) -> Detections:
        """All people in one RGB uint8 image, scanned in `tiles` (default: the detector's tiles).

        The whole-image pass's detections (weighted NMS, as MediaPipe's) are kept as they are; the
        smaller tiles' detections (weighted NMS among themselves) only add people whose rough body box
        overlaps none of those by IoU > box_nms_threshold: a tile that cuts a person off shows the
        detector part of them, and its alignment points would move the person's region."""
        checked_rgb_uint8(image, "blazepose detector")
        height, width = image.shape[:2]
        tiles = self.tiles if tiles is None else tiles
        whole: list[Part] = []
        parts: list[Part] = []
        for x0, y0, win_w, win_h in tile_windows(width, height, tiles, self.tile_overlap, self.tile_slack):
            scores, boxes, keypoints = self._run(image[y0 : y0 + win_h, x0 : x0 + win_w])
            offset = np.array([x0, y0], dtype=np.float64)
            part = (scores, boxes + np.tile(offset, 2), keypoints + offset)
            (whole if (win_w, win_h) == (width, height) else parts).append(part)
        scores, keypoints = self._merged(whole)
        tile_scores, tile_keypoints = self._merged(parts)
        if len(tile_scores):
            body = clip_boxes(alignment_to_box(keypoints[:, :2], self.box_extent), width, height)
            tile_body = clip_boxes(alignment_to_box(tile_keypoints[:, :2], self.box_extent), width, height)
            new = [
                i
                for i in range(len(tile_scores))
                if not len(body) or box_iou(tile_body[i], body).max() <= self.box_nms_threshold
            ]
            scores = np.concatenate([scores, tile_scores[new]])
            keypoints = np.concatenate([keypoints, tile_keypoints[new]])
        alignment = keypoints[:, :2]
        if self._landmarks is not None:
            return self._landmark_pass(image, scores, alignment, self._landmarks)
        body = clip_boxes(alignment_to_box(alignment, self.box_extent), width, height)
        return Detections(body.astype(np.float32), scores.astype(np.float32), alignment_rotation(alignment))

    def _merged(self, parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
        """Scores (M,) and keypoints (M, 4, 2) of the passes' detections after weighted NMS."""
        if not parts:
            return np.zeros((0,)), np.zeros((0, 4, 2))
        scores, boxes, keypoints = (np.concatenate([p[i] for p in parts]) for i in range(3))
        scores, _, keypoints = weighted_nms(scores, boxes, keypoints, self.nms_threshold)
        return scores, keypoints.reshape(-1, 4, 2)

    def _landmark_pass(
        self, image: np.ndarray, scores: np.ndarray, alignment: np.ndarray, landmarks: BlazePoseLandmarkModel
    ) -> Detections:
        """MediaPipe's detection -> landmarks -> box step: one landmark pass on each detection's aligned
        region; people whose pose flag is below presence_threshold are dropped, the box becomes the hull of
        the pass's body extent (LandmarkPass.body_extent, plus box_margin, clipped to the image), and
        overlapping boxes (IoU > box_nms_threshold) keep the
        higher score. The same NMS on the rough alignment boxes first saves passes on duplicates. The
        pass's COCO keypoints and scores are the detections' keypoints and keypoint_scores, its own
        alignment points (mid-hip, scale point) their alignment (N, 2, 2), a first opinion the pose model
        may check (second_opinion)."""
        height, width = image.shape[:2]
        rough = clip_boxes(alignment_to_box(alignment, self.box_extent), width, height)
        first = _suppress(scores, rough, self.box_nms_threshold) if len(scores) else []
        kept_index, kept_boxes, kept_keypoints, kept_scores, kept_alignment = [], [], [], [], []
        for index in first:
            landmark_pass = landmarks.run_alignment_region(image, alignment[index])
            body = landmark_pass.body_extent()
            if landmark_pass.flag < self.presence_threshold or len(body) < 2:
                continue
            low, high = body.min(axis=0), body.max(axis=0)
            pad = (high - low) * self.box_margin
            kept_index.append(index)
            kept_boxes.append(np.concatenate([low - pad, high + pad]))
            points, point_scores = landmark_pass.coco()
            kept_keypoints.append(points)
            kept_scores.append(point_scores)
            kept_alignment.append(landmark_pass.alignment())
        if not kept_index:
            empty = Detections.empty()
            return Detections(
                empty.boxes,
                empty.scores,
                rotations=np.zeros((0,)),
                keypoints=np.zeros((0, 17, 2)),
                keypoint_scores=np.zeros((0, 17)),
                alignment=np.zeros((0, 2, 2)),
                second_opinion=True,
            )
        found = Detections(
            clip_boxes(np.array(kept_boxes), width, height).astype(np.float32),
            scores[kept_index].astype(np.float32),
            rotations=alignment_rotation(alignment[kept_index]),
            keypoints=np.array(kept_keypoints),
            keypoint_scores=np.array(kept_scores),
            alignment=np.array(kept_alignment),
            second_opinion=True,
        )
        return found.select(np.array(_suppress(found.scores, found.boxes, self.box_nms_threshold)))

    def detect(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """Detect people in each RGB uint8 image."""
        return [self.detect_one(image) for image in images]

    def detect_thorough(self, images: Sequence[np.ndarray]) -> list[Detections]:
        """detect(), scanned in the finer thorough_tiles (what a tracked video runs on its detection
        frames, posekit.detectors.base.ThoroughDetector)."""
        return [self.detect_one(image, self.thorough_tiles) for image in images]
