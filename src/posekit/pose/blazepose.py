"""BlazePose landmarks (the embedded default pose model) as a top-down COCO-17 PoseModel, run with LiteRT.

Per person box: a square crop around the box, warped to 256x256 RGB in [0, 1] (MediaPipe's
pose_landmark_by_roi graph, replicated border); the model gives 39 points (x, y, z, visibility, presence in
crop pixels; 33 body landmarks + 2 alignment points + 4 auxiliary), a pose-presence flag and 64x64 heatmaps
that refine the points as MediaPipe's RefineLandmarksFromHeatmapCalculator does (7x7 window, sigmoid
weights, refine only when the window's peak is >= 0.5). One pass runs per crop scale (crop side = scale x
the box's long side); with `align=True` one more pass runs on MediaPipe's region from the alignment points
the best pass found (mid-hip and full-body scale point, landmarks 33 and 34): centred on the mid-hip, side
2 x |scale point - mid-hip| x the last crop scale, rotated so the body axis points up. The pass with the
highest mean joint score is kept. The 17 COCO joints are the shared landmarks (COCO_FROM_BLAZEPOSE); a
joint's score is sigmoid(visibility) x sigmoid(presence) x the pose flag.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from posekit.detectors.blazepose import alignment_rotation, load_interpreter
from posekit.errors import PosekitError
from posekit.geometry import affine_points, get_affine_transform

INPUT_SIZE = 256
NUM_LANDMARKS = 39
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5
HIP_CENTRE, SCALE_POINT = 33, 34
# BlazePose landmark index of each COCO keypoint, in COCO order: nose, left/right eye, left/right ear,
# shoulders, elbows, wrists, hips, knees, ankles (left first).
COCO_FROM_BLAZEPOSE = np.array([0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28])


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80.0, 80.0)))


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray) -> np.ndarray:
    """MediaPipe's heatmap refinement: points (K, 2) in crop pixels, heatmap (h, w, K) raw logits."""
    hm_h, hm_w, _ = heatmap.shape
    half = (HEATMAP_KERNEL - 1) // 2
    refined = points.copy()
    cols = (points[:, 0] / INPUT_SIZE * hm_w).astype(int)
    rows = (points[:, 1] / INPUT_SIZE * hm_h).astype(int)
    for k, (col, row) in enumerate(zip(cols, rows)):
        if not (0 <= col < hm_w and 0 <= row < hm_h):
            continue
        r0, r1 = max(0, row - half), min(hm_h, row + half + 1)
        c0, c1 = max(0, col - half), min(hm_w, col + half + 1)
        conf = _sigmoid(heatmap[r0:r1, c0:c1, k])
        total = conf.sum()
        if conf.max() >= HEATMAP_MIN_CONFIDENCE and total > 0:
            grid_r, grid_c = np.mgrid[r0:r1, c0:c1]
            refined[k, 0] = (grid_c * conf).sum() / total / hm_w * INPUT_SIZE
            refined[k, 1] = (grid_r * conf).sum() / total / hm_h * INPUT_SIZE
    return refined


class BlazePoseLandmarkModel:
    """The embedded default pose model: BlazePose full landmarks (Apache-2.0), COCO-17 output.

    crop_scales: crop sides relative to the box's long side, one pass each; align: add the
    rotation-aligned pass; refine: heatmap refinement. `estimate(..., rotations=...)` takes per-box
    rotations (degrees clockwise, the BlazePose detector's `extras["rotations"]`); those of at least
    min_rotation get one more pass (the detector's small tilts are noise for upright people).
    Defaults measured on coco-val-mini: keypoint AP 0.62 on GT boxes, 0.456 end to end with the
    BlazePose detector (benchmarks/default_model.py).
    """

    num_joints = 17
    detection_extras = ("rotations",)  # the BlazePose detector's per-box rotation hints
    pose_nms = True

    def __init__(
        self,
        weights: str | Path | None = None,
        crop_scales: Sequence[float] = (1.25, 1.5),
        align: bool = True,
        refine: bool = True,
        min_rotation: float = 30.0,
        num_threads: int | None = None,
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
        self.refine = bool(refine)
        self.min_rotation = float(min_rotation)
        self._interpreter = load_interpreter(path, num_threads)
        self._input = self._interpreter.get_input_details()[0]["index"]
        by_shape = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        self._landmarks_out = by_shape[(1, NUM_LANDMARKS * 5)]
        self._flag_out = by_shape[(1, 1)]
        self._heatmap_out = by_shape[(1, 64, 64, NUM_LANDMARKS)]

    def _run_crop(
        self, image: np.ndarray, centre: np.ndarray, side: float, rotation: float
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """One landmark pass on a rotated square region: points (39, 2) in image pixels, raw (39, 5), flag."""
        size = np.array([side, side])
        matrix = get_affine_transform(centre, size, rotation, (INPUT_SIZE, INPUT_SIZE))
        crop = cv2.warpAffine(
            image, matrix, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        self._interpreter.set_tensor(self._input, (crop.astype(np.float32) / 255.0)[None])
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._landmarks_out)[0].reshape(NUM_LANDMARKS, 5)
        flag = float(self._interpreter.get_tensor(self._flag_out)[0, 0])
        points = raw[:, :2].astype(np.float64)
        if self.refine:
            points = refine_from_heatmap(points, self._interpreter.get_tensor(self._heatmap_out)[0])
        inverse = get_affine_transform(centre, size, rotation, (INPUT_SIZE, INPUT_SIZE), inv=True)
        return affine_points(points, inverse), raw, flag

    def landmarks_in_region(
        self, image: np.ndarray, alignment: np.ndarray
    ) -> tuple[np.ndarray, float, np.ndarray]:
        """One pass on MediaPipe's region of detector alignment points (2, 2): the 33 body landmarks in
        image pixels, the pose flag, and which landmarks are present (sigmoid(presence) >= 0.5)."""
        size = 2.0 * float(np.linalg.norm(alignment[1] - alignment[0]))
        angle = float(alignment_rotation(alignment[None])[0])
        points, raw, flag = self._run_crop(image, alignment[0], max(size, 1.0) * self.crop_scales[-1], angle)
        return points[:33], flag, _sigmoid(raw[:33, 4]) >= 0.5

    def _coco(self, points: np.ndarray, raw: np.ndarray, flag: float) -> tuple[np.ndarray, np.ndarray]:
        scores = _sigmoid(raw[:, 3]) * _sigmoid(raw[:, 4]) * flag
        return points[COCO_FROM_BLAZEPOSE], scores[COCO_FROM_BLAZEPOSE]

    def estimate_one(
        self, image: np.ndarray, box: np.ndarray, rotation: float | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """COCO-17 keypoints (17, 2) in image pixels and scores (17,) for one xyxy box.

        One upright pass per crop scale, one more at `rotation` (degrees clockwise, e.g. from the
        detector's alignment points) when it is at least min_rotation, then the aligned pass; the pass
        with the highest mean joint score wins.
        """
        x1, y1, x2, y2 = (float(v) for v in box[:4])
        centre = np.array([(x1 + x2) / 2, (y1 + y2) / 2])
        long_side = max(x2 - x1, y2 - y1, 1.0)
        passes = [self._run_crop(image, centre, long_side * scale, 0.0) for scale in self.crop_scales]
        if rotation is not None and abs(rotation) >= self.min_rotation:
            passes.append(self._run_crop(image, centre, long_side * self.crop_scales[-1], float(rotation)))
        if self.align:
            best_points = max(passes, key=lambda p: self._coco(*p)[1].mean())[0]
            alignment = best_points[[HIP_CENTRE, SCALE_POINT]]
            size = 2.0 * np.linalg.norm(alignment[1] - alignment[0])
            if size > 1.0:
                angle = float(alignment_rotation(alignment[None])[0])
                passes.append(self._run_crop(image, alignment[0], size * self.crop_scales[-1], angle))
        results = [self._coco(*p) for p in passes]
        return max(results, key=lambda r: r[1].mean())

    def estimate(
        self, image: np.ndarray, boxes: np.ndarray, rotations: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """RGB uint8 image and (N, 4) xyxy boxes -> keypoints (N, 17, 2) image pixels, scores (N, 17)."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        keypoints = np.zeros((len(boxes), self.num_joints, 2))
        scores = np.zeros((len(boxes), self.num_joints))
        for i, box in enumerate(boxes):
            rotation = None if rotations is None else float(rotations[i])
            keypoints[i], scores[i] = self.estimate_one(image, box, rotation)
        return keypoints, scores


def default_pose_model(**options) -> BlazePoseLandmarkModel:
    """The embedded default pose model (pulls the model files on first use)."""
    return BlazePoseLandmarkModel(**options)
