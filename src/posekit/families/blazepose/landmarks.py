"""BlazePose landmarks (the embedded default pose model) as a top-down COCO-17 PoseModel, run with LiteRT.

Per pass: a square region, rotated, warped to 256x256 RGB in [0, 1] (MediaPipe's pose_landmark_by_roi
graph, replicated border); the model gives 39 points (x, y, z, visibility, presence in crop pixels; 33
body landmarks + 2 alignment points + 4 auxiliary), a pose-presence flag and 64x64 heatmaps that refine
the points as MediaPipe's RefineLandmarksFromHeatmapCalculator does (7x7 window, sigmoid weights, refine
only when the window's peak is >= 0.5). The 17 COCO joints are the shared landmarks (COCO_FROM_BLAZEPOSE);
a joint's score is sigmoid(visibility) x sigmoid(presence) x the pose flag, a pass's confidence the mean
of its 17 joint scores; a joint the pass puts outside the image scores 0.

With the BlazePose detector's landmark pass (Detections.keypoints, keypoint_scores and alignment, the pass
it already ran on MediaPipe's region of each person, marked second_opinion) that pass is the answer unless
its confidence is below `doubtful` and it keeps every joint inside the image; then one upright square crop
of the box (side = the first crop scale x the box's long side; at the detector's rotation when that is at
least min_rotation) runs too and the more confident of the two is kept. A pass that puts joints outside
the image (half-body framing: a portrait, a webcam) is kept as it is, as MediaPipe keeps it: a crop of
the box, which ends at the image's edge, would squeeze the whole body into the frame.
Otherwise (plain boxes, or doubtful=None: the thorough search) one upright pass runs per crop scale, one
more at the detector's rotation when it is at least min_rotation, then (align=True) one on MediaPipe's
region from the alignment points of the best pass (mid-hip and full-body scale point, landmarks 33 and
34; side 2 x their distance x the last crop scale, rotated so the body axis points up); the most
confident pass wins.

A tracked region (a person with a PersonHint: the pose-guided crops of posekit.track.guided follow them
from the previous frame) gets one pass on MediaPipe's region of the hint's alignment points (side x the
first crop scale, 1.25 as MediaPipe's tracking) or, when they are not known, one upright pass on the
planned box at the first crop scale; only when its confidence is below `doubtful` one more (the upright
box, or the first pass's own alignment region), and the more confident of the two is kept; a pass on
MediaPipe's region that puts joints outside the image is kept without the upright box's. `estimate`
returns each pose's alignment points (Poses.alignment): the region of the person's next tracked pass
(the tracker filters them, posekit.track.guided). Why these choices: docs/guide/video-tracking.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from posekit.errors import PosekitError
from posekit.families.blazepose.alignment import alignment_region
from posekit.families.blazepose.litert import shared_interpreter
from posekit.geometry import affine_points, get_affine_transform
from posekit.types import Detections, PersonHint, Poses

INPUT_SIZE = 256
NUM_LANDMARKS = 39
NUM_BODY = 33
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5
HIP_CENTRE, SCALE_POINT = 33, 34
# BlazePose landmark index of each COCO keypoint, in COCO order: nose, left/right eye, left/right ear,
# shoulders, elbows, wrists, hips, knees, ankles (left first).
COCO_FROM_BLAZEPOSE = np.array([0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])
# A pose: COCO-17 keypoints (17, 2), their scores (17,) and the alignment points (2, 2) of its pass.
Pose = tuple[np.ndarray, np.ndarray, np.ndarray]
# LiteRT threads: both cores of a 2-core machine (measured 1.9x faster per pass than one), at most 4.
DEFAULT_THREADS = max(1, min(4, os.cpu_count() or 1))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """MediaPipe's heatmap refinement: points (K, 2) in crop pixels, heatmap (h, w, K) raw logits.

    Each point inside the heatmap moves to the confidence-weighted mean of its 7x7 window (clipped at the
    heatmap's edge) when the window's peak confidence is at least 0.5; all K windows at once."""
    hm_h, hm_w, count = heatmap.shape
    half = (HEATMAP_KERNEL - 1) // 2
    cols = (points[:, 0] / INPUT_SIZE * hm_w).astype(int)
    rows = (points[:, 1] / INPUT_SIZE * hm_h).astype(int)
    inside = (cols >= 0) & (cols < hm_w) & (rows >= 0) & (rows < hm_h)
    steps = np.arange(-half, half + 1)
    grid_r, grid_c = rows[:, None] + steps, cols[:, None] + steps  # (K, 7) each
    valid = ((grid_r >= 0) & (grid_r < hm_h))[:, :, None] & ((grid_c >= 0) & (grid_c < hm_w))[:, None, :]
    row_index, col_index = grid_r.clip(0, hm_h - 1), grid_c.clip(0, hm_w - 1)
    logits = heatmap[row_index[:, :, None], col_index[:, None, :], np.arange(count)[:, None, None]]
    conf = np.where(valid, _sigmoid(logits), 0.0)  # (K, 7, 7)
    total = conf.sum(axis=(1, 2))
    moved = inside & (conf.max(axis=(1, 2)) >= HEATMAP_MIN_CONFIDENCE) & (total > 0)
    refined = points.copy()
    safe = np.where(moved, total, 1.0)
    refined[moved, 0] = ((conf * grid_c[:, None, :]).sum(axis=(1, 2)) / safe / hm_w * INPUT_SIZE)[moved]
    refined[moved, 1] = ((conf * grid_r[:, :, None]).sum(axis=(1, 2)) / safe / hm_h * INPUT_SIZE)[moved]
    return refined


def outside_image(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Which points (..., 2) lie outside the image's pixels [0, width) x [0, height)."""
    return (
        (points[..., 0] < 0) | (points[..., 0] >= width) | (points[..., 1] < 0) | (points[..., 1] >= height)
    )


@dataclass
class LandmarkPass:
    """One landmark pass: points (39, 2) in image pixels, raw outputs (39, 5), the pose flag and the
    image's (width, height)."""

    points: np.ndarray
    raw: np.ndarray
    flag: float
    image_size: tuple[int, int]

    def coco(self) -> tuple[np.ndarray, np.ndarray]:
        """COCO-17 keypoints (17, 2) and scores (17,); a keypoint outside the image scores 0."""
        points = self.points[COCO_FROM_BLAZEPOSE]
        scores = (_sigmoid(self.raw[:, 3]) * _sigmoid(self.raw[:, 4]) * self.flag)[COCO_FROM_BLAZEPOSE]
        return points, np.where(outside_image(points, *self.image_size), 0.0, scores)

    def body_present(self) -> np.ndarray:
        """The 33 body landmarks (33, 2) whose presence is >= 0.5."""
        return self.points[:NUM_BODY][_sigmoid(self.raw[:NUM_BODY, 4]) >= 0.5]

    def body_extent(self) -> np.ndarray:
        """The body landmarks a person box spans: those present, or all 33 when the pass puts a COCO
        keypoint outside the image (the frame cuts the person off, so the box reaches its edge)."""
        if outside_image(self.points[COCO_FROM_BLAZEPOSE], *self.image_size).any():
            return self.points[:NUM_BODY]
        return self.body_present()

    def alignment(self) -> np.ndarray:
        """The pass's own alignment points (2, 2): mid-hip and full-body scale point."""
        return self.points[[HIP_CENTRE, SCALE_POINT]]

    def pose(self) -> Pose:
        """COCO-17 keypoints and scores (see coco) with the pass's alignment points."""
        return (*self.coco(), self.alignment())


class BlazePoseLandmarkModel:
    """The embedded default pose model: BlazePose full landmarks (Apache-2.0), COCO-17 output.

    crop_scales: crop sides relative to the box's long side, one upright pass each; align: the
    rotation-aligned pass; heatmap_refinement: MediaPipe's refinement of the points from the heatmaps;
    min_rotation: the detector's rotations (degrees clockwise, `Detections.rotations`) of at least this
    get a rotated pass (small tilts are noise for upright people); doubtful: the confidence below which
    the detector's pass or a tracked region's pass gets a second opinion (None: the thorough search of
    every pass); num_threads: LiteRT threads. `estimate` takes the BlazePose detector's rotations and
    landmark pass.
    """

    num_joints = 17
    pose_nms = True

    def __init__(
        self,
        weights: str | Path | None = None,
        crop_scales: Sequence[float] = (1.25, 1.5),
        align: bool = True,
        heatmap_refinement: bool = True,
        min_rotation: float = 30.0,
        doubtful: float | None = 0.8,
        num_threads: int | None = DEFAULT_THREADS,
    ) -> None:
        if weights:
            path = Path(weights).expanduser()
            if not path.is_file():
                raise PosekitError(f"blazepose landmark weights not found: {path}")
        else:
            from posekit.modelstore import ensure_default_model

            path = ensure_default_model()["landmarks"]
        if not crop_scales:
            raise PosekitError("blazepose landmark model: crop_scales must name at least one scale")
        self.crop_scales = tuple(float(v) for v in crop_scales)
        self.align = bool(align)
        self.heatmap_refinement = bool(heatmap_refinement)
        self.min_rotation = float(min_rotation)
        self.doubtful = None if doubtful is None else float(doubtful)
        self._shared = shared_interpreter(path, num_threads)  # the BlazePose detector's too
        self._interpreter = self._shared.interpreter
        self._input = self._interpreter.get_input_details()[0]["index"]
        by_shape = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        self._landmarks_out = by_shape[(1, NUM_LANDMARKS * 5)]
        self._flag_out = by_shape[(1, 1)]
        self._heatmap_out = by_shape[(1, 64, 64, NUM_LANDMARKS)]

    def run_region(self, image: np.ndarray, centre: np.ndarray, side: float, rotation: float) -> LandmarkPass:
        """One landmark pass on a square region (centre, side in pixels) rotated by `rotation` degrees."""
        size = np.array([max(side, 1.0)] * 2)
        matrix = get_affine_transform(centre, size, rotation, (INPUT_SIZE, INPUT_SIZE))
        crop = cv2.warpAffine(
            image, matrix, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        with self._shared.lock:
            self._interpreter.set_tensor(self._input, (crop.astype(np.float32) / 255.0)[None])
            self._interpreter.invoke()
            raw = self._interpreter.get_tensor(self._landmarks_out)[0].reshape(NUM_LANDMARKS, 5)
            flag = float(self._interpreter.get_tensor(self._flag_out)[0, 0])
            heatmap: np.ndarray | None = None
            if self.heatmap_refinement:
                heatmap = self._interpreter.get_tensor(self._heatmap_out)[0]
        points = raw[:, :2].astype(np.float64)
        if heatmap is not None:
            points = refine_from_heatmap(points, heatmap)
        inverse = get_affine_transform(centre, size, rotation, (INPUT_SIZE, INPUT_SIZE), inv=True)
        height, width = image.shape[:2]
        return LandmarkPass(affine_points(points, inverse), raw, flag, (width, height))

    def run_alignment_region(
        self, image: np.ndarray, alignment: np.ndarray, scale: float | None = None
    ) -> LandmarkPass:
        """One pass on MediaPipe's region of alignment points (2, 2), enlarged by `scale` (default: the
        last crop scale)."""
        centre, side, angle = alignment_region(alignment)
        return self.run_region(
            image, centre, side * (self.crop_scales[-1] if scale is None else scale), angle
        )

    def estimate_one(
        self,
        image: np.ndarray,
        box: np.ndarray,
        rotation: float | None = None,
        prior: Pose | None = None,
        guided: bool = False,
        alignment: np.ndarray | None = None,
    ) -> Pose:
        """COCO-17 keypoints (17, 2) in image pixels, scores (17,) and alignment points (2, 2) for one xyxy
        box: the most confident of the passes tried (see the module docstring); `prior` is a pass already
        run (keypoints, scores, alignment), `guided` marks a tracked region (one pass, a second only when
        doubtful) and `alignment` its alignment points from the previous frame, if known."""
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
        long_side = max(x2 - x1, y2 - y1, 1.0)
        tilt = float(rotation) if rotation is not None and abs(rotation) >= self.min_rotation else None
        if guided and self.doubtful is not None:
            return self._tracked(image, centre, long_side * self.crop_scales[0], alignment)
        if prior is not None and self.doubtful is not None:
            if prior[1].mean() >= self.doubtful or _leaves_image(prior, image):
                return prior
            angle = 0.0 if tilt is None else tilt
            second = self.run_region(image, centre, long_side * self.crop_scales[0], angle)
            return _best([prior, second.pose()])
        passes = [self.run_region(image, centre, long_side * scale, 0.0) for scale in self.crop_scales]
        if tilt is not None:
            passes.append(self.run_region(image, centre, long_side * self.crop_scales[-1], tilt))
        poses = [p.pose() for p in passes]
        if self.align:
            best_alignment = _best(poses)[2]
            if alignment_region(best_alignment)[1] > 1.0:
                poses.append(self.run_alignment_region(image, best_alignment).pose())
        return _best(poses + ([] if prior is None else [prior]))

    def _tracked(
        self, image: np.ndarray, centre: np.ndarray, side: float, alignment: np.ndarray | None
    ) -> Pose:
        """A tracked region: one pass on MediaPipe's region of the track's alignment points (when known,
        as MediaPipe's tracking does) or else upright on the planned box; when doubtful a second pass (the
        upright box, or the first pass's own alignment region) and the more confident of the two."""
        known = alignment is not None and alignment_region(alignment)[1] > 1.0
        if known and alignment is not None:
            first = self.run_alignment_region(image, alignment, self.crop_scales[0])
        else:
            first = self.run_region(image, centre, side, 0.0)
        result = first.pose()
        if result[1].mean() >= self.doubtful or (known and _leaves_image(result, image)):
            return result
        if known:
            second = self.run_region(image, centre, side, 0.0).pose()
        elif alignment_region(first.alignment())[1] > 1.0:
            second = self.run_alignment_region(image, first.alignment()).pose()
            if _leaves_image(second, image):
                return second
        else:
            return result
        return _best([result, second])

    def estimate(
        self, image: np.ndarray, people: Detections, hints: Sequence[PersonHint | None] | None = None
    ) -> Poses:
        """Keypoints (N, 17, 2) image pixels, scores (N, 17) and the alignment points (N, 2, 2) of the
        pass each pose came from (the region of the person's next tracked pass).

        From `people`: the boxes, the BlazePose detector's rotations and, when a second opinion is
        allowed (Detections.second_opinion), the landmark pass it already ran per box (keypoints,
        keypoint_scores, alignment). A person with a hint is a tracked region of posekit.track.guided:
        one pass on the region of the hint's alignment points (see the module docstring)."""
        boxes = np.asarray(people.boxes, dtype=np.float64).reshape(-1, 4)
        out_keypoints = np.zeros((len(boxes), self.num_joints, 2))
        out_scores = np.zeros((len(boxes), self.num_joints))
        out_alignment = np.zeros((len(boxes), 2, 2))
        for i, box in enumerate(boxes):
            hint = None if hints is None else hints[i]
            if hint is not None:
                last = None if hint.alignment is None else np.asarray(hint.alignment, np.float64)
                pose = self.estimate_one(image, box, guided=True, alignment=last)
            else:
                rotation = None if people.rotations is None else float(people.rotations[i])
                pose = self.estimate_one(image, box, rotation, _prior(people, i))
            out_keypoints[i], out_scores[i], out_alignment[i] = pose
        return Poses(out_keypoints, out_scores, out_alignment)


def _prior(people: Detections, i: int) -> Pose | None:
    """The detector's landmark pass of person i, when it has one and allows a second opinion."""
    if not people.second_opinion or people.keypoints is None or people.keypoint_scores is None:
        return None
    alignment = np.zeros((2, 2)) if people.alignment is None else people.alignment[i]
    return (
        np.asarray(people.keypoints[i], np.float64),
        np.asarray(people.keypoint_scores[i], np.float64),
        np.asarray(alignment, np.float64),
    )


def _leaves_image(pose: Pose, image: np.ndarray) -> bool:
    """Whether a pose puts any keypoint outside the image (a person the frame cuts off)."""
    height, width = image.shape[:2]
    return bool(outside_image(pose[0], width, height).any())


def _best(results: list[Pose]) -> Pose:
    """The most confident pose (highest mean keypoint score)."""
    return max(results, key=lambda r: r[1].mean())


def default_pose_model(**options) -> BlazePoseLandmarkModel:
    """The embedded default pose model (pulls the model files on first use)."""
    return BlazePoseLandmarkModel(**options)
