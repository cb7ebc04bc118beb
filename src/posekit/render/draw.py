"""Drawing poses as AlphaPose does: a neck point, its limbs and colours, fast or alpha-blended.

A keypoint is drawn only when its score is above the threshold (AlphaPose's `vis_thres`, 0.4 for
heatmap models, compared in the scores' own precision), a limb only when both of its ends are. The
blended drawing gives the same pixels as blending a full-image copy per element (AlphaPose's
`vis_frame`), but only touches the rectangle each point or limb covers, so it stays cheap. With
tracking, every person is drawn in their track's colour and labelled with their track id.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from posekit.skeleton import POINT_COLORS_BGR, TRACK_COLORS_BGR, KeypointSet, set_for_joints
from posekit.types import PoseResult

BOX_COLOR_BGR = (255, 0, 0)
LABEL_TEXT_BGR = (0, 0, 0)
LABEL_FONT = cv2.FONT_HERSHEY_SIMPLEX
LABEL_SCALE = 0.6
LABEL_THICKNESS = 2
LABEL_PAD = 2
WHITE_BGR = (255, 255, 255)
DEFAULT_KP_THRESH = 0.4


def with_neck(keypoints: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Append AlphaPose's neck (mean of the shoulders, points 5 and 6) as point 17 of a COCO-17 pose."""
    neck = (keypoints[5] + keypoints[6]) / 2.0
    neck_score = (scores[5] + scores[6]) / 2.0
    return np.vstack([keypoints, neck[None]]), np.append(scores, neck_score)


def track_color(track_id: object) -> tuple[int, int, int]:
    """Colour of a track id (idx % 8 over AlphaPose's pool); anything else (no id, a results file's
    list of merged detection indices) gets the first."""
    if isinstance(track_id, (int, np.integer)):
        return TRACK_COLORS_BGR[abs(int(track_id)) % len(TRACK_COLORS_BGR)]
    return TRACK_COLORS_BGR[0]


def draw_poses(
    image_bgr: np.ndarray,
    result: PoseResult,
    fast: bool = False,
    show_box: bool = False,
    tracking: bool = False,
    kp_thresh: float = DEFAULT_KP_THRESH,
) -> np.ndarray:
    """Draw every person of `result` on a copy of a BGR uint8 image and return it.

    fast: solid circles (radius 3) and lines (AlphaPose's vis_frame_fast); otherwise blended points
    (radius 2, alpha = score) and ellipse limbs (alpha = mean score - 0.1). Keypoints scoring at most
    kp_thresh are not drawn, nor the limbs that end at them. tracking: colour per track id and the id
    as a label (above the box with show_box, else above the person's highest drawn keypoint).
    """
    canvas = np.ascontiguousarray(image_bgr).copy()
    for person in range(len(result)):
        track_id = result.ids[person] if person < len(result.ids) else None
        color = track_color(track_id) if tracking else None
        label = id_label(track_id) if tracking else None
        if show_box:
            _draw_box(canvas, result.boxes[person], color or BOX_COLOR_BGR, label)
        keypoints = np.asarray(result.keypoints[person], dtype=np.float64)
        scores = _float_scores(result.keypoint_scores[person])
        kset = set_for_joints(len(keypoints))
        points = _draw_pose(canvas, keypoints, scores, kset, color, fast, kp_thresh)
        if label is not None and not show_box and points:
            top = min(points.values(), key=lambda xy: xy[1])
            _draw_label(canvas, label, top, color or BOX_COLOR_BGR, centered=True)
    return canvas


def id_label(track_id: object) -> str | None:
    """The text a tracked person is labelled with: their integer track id (None for anything else: no
    id, or a results file's untracked [[0.0]] placeholder)."""
    if isinstance(track_id, (int, np.integer)) and not isinstance(track_id, bool):
        return str(int(track_id))
    return None


def _float_scores(scores: object) -> np.ndarray:
    """Keypoint scores as a flat float array, float32 kept as float32 (AlphaPose compares float32
    scores with the threshold in float32, so 0.4 itself is not drawn)."""
    array = np.asarray(scores).reshape(-1)
    return array if array.dtype in (np.float32, np.float64) else array.astype(np.float64)


def _draw_pose(
    canvas: np.ndarray,
    keypoints: np.ndarray,
    scores: np.ndarray,
    kset: KeypointSet,
    color: tuple[int, int, int] | None,
    fast: bool,
    kp_thresh: float,
) -> dict[int, tuple[int, int]]:
    """One pose with its set's limbs and colours; points and limbs past the set's colour tables are
    drawn white and thin (AlphaPose's face and hands), and a custom set's points cycle COCO's colours.
    Scores are compared with kp_thresh in their own precision (float32 as AlphaPose). Returns the
    drawn points (index -> pixel)."""
    if kset.neck:
        keypoints, scores = with_neck(keypoints, scores)
    point_colors = kset.point_colors
    if kset.name == "custom":
        point_colors = tuple(POINT_COLORS_BGR[i % len(POINT_COLORS_BGR)] for i in range(len(keypoints)))
    # AlphaPose's blended limbs use alpha = sum of the two scores once a set has uncoloured points.
    full_alpha = len(keypoints) > len(point_colors)
    visible = (scores > scores.dtype.type(kp_thresh)) & _drawable(keypoints, canvas.shape)
    scores = scores.astype(np.float64)
    points = {int(i): (int(keypoints[i, 0]), int(keypoints[i, 1])) for i in np.flatnonzero(visible)}
    for i, xy in points.items():
        coloured = i < len(point_colors)
        score = float(np.clip(scores[i] if coloured else 2 * scores[i], 0.0, 1.0))
        if coloured:
            point_color, radius, thickness = color or point_colors[i], (3 if fast else 2), -1
        else:
            point_color, radius, thickness = WHITE_BGR, 1, 2
        if fast:
            cv2.circle(canvas, xy, radius, point_color, thickness)
        else:
            _blend_circle(canvas, xy, radius, point_color, score, thickness)
    for n, (a, b) in enumerate(kset.render_limbs):
        if a not in points or b not in points:
            continue
        pair = scores[a] + scores[b]
        alpha = float(np.clip(pair if full_alpha else 0.5 * pair - 0.1, 0.0, 1.0))
        if n >= len(kset.limb_colors):
            if fast:
                cv2.line(canvas, points[a], points[b], WHITE_BGR, 1)
            else:
                _blend_line(canvas, points[a], points[b], alpha)
            continue
        limb_color = color or kset.limb_colors[n]
        if fast:
            cv2.line(canvas, points[a], points[b], limb_color, 2 * int(pair) + 1)
        else:
            _blend_limb(canvas, keypoints[a], keypoints[b], pair + 1, limb_color, alpha)
    return points


def _drawable(points: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Which points (N, 2) can be handed to OpenCV: finite and within one image size of the image
    (absurd ones, e.g. 1e300 from a diverged model, would overflow its int coordinates); the rest is
    not drawn."""
    h, w = shape[:2]
    reach = max(h, w)
    with np.errstate(invalid="ignore"):
        inside_x = (points[:, 0] >= -reach) & (points[:, 0] <= w + reach)
        inside_y = (points[:, 1] >= -reach) & (points[:, 1] <= h + reach)
    return np.isfinite(points).all(axis=1) & inside_x & inside_y


def _draw_box(canvas: np.ndarray, box: np.ndarray, color: tuple[int, int, int], label: str | None) -> None:
    coords = np.asarray(box[:4], dtype=np.float64)
    if not np.isfinite(coords).all():
        return
    h, w = canvas.shape[:2]
    # Clipping just outside the image keeps every visible edge where it is and OpenCV's ints small.
    coords = np.clip(coords, -2, [w + 1, h + 1, w + 1, h + 1])
    x1, y1, x2, y2 = (int(v) for v in coords)
    cv2.rectangle(canvas, (x1, y1), (x2, y2), color, 2)
    if label is not None:
        _draw_label(canvas, label, (x1, y1), color, centered=False)


def _draw_label(
    canvas: np.ndarray, text: str, anchor: tuple[int, int], color: tuple[int, int, int], centered: bool
) -> None:
    """`text` in black on a filled chip of `color`, the chip's bottom 4 px above `anchor` (its left end
    there, or its middle when centered), moved inside the image when it would leave it."""
    (width, height), baseline = cv2.getTextSize(text, LABEL_FONT, LABEL_SCALE, LABEL_THICKNESS)
    h, w = canvas.shape[:2]
    chip_w, chip_h = width + 2 * LABEL_PAD, height + baseline + 2 * LABEL_PAD
    x = anchor[0] - chip_w // 2 if centered else anchor[0]
    x = min(max(x, 0), max(w - chip_w, 0))
    y = min(max(anchor[1] - 4 - chip_h, 0), max(h - chip_h, 0))  # the chip's top
    cv2.rectangle(canvas, (x, y), (x + chip_w - 1, y + chip_h - 1), color, -1)
    origin = (x + LABEL_PAD, y + LABEL_PAD + height)
    cv2.putText(canvas, text, origin, LABEL_FONT, LABEL_SCALE, LABEL_TEXT_BGR, LABEL_THICKNESS)


def _blend_region(
    canvas: np.ndarray, pts: np.ndarray, alpha: float, draw, margin: int = 1
) -> tuple[int, int] | None:
    """Blend `draw(roi_copy, offset)` into the bounding rectangle of `pts` (clipped to the image)."""
    h, w = canvas.shape[:2]
    x0 = max(int(np.floor(pts[:, 0].min())) - margin, 0)
    y0 = max(int(np.floor(pts[:, 1].min())) - margin, 0)
    x1 = min(int(np.ceil(pts[:, 0].max())) + margin + 1, w)
    y1 = min(int(np.ceil(pts[:, 1].max())) + margin + 1, h)
    if x0 >= x1 or y0 >= y1:
        return None
    roi = canvas[y0:y1, x0:x1]
    layer = roi.copy()
    draw(layer, (x0, y0))
    roi[:] = cv2.addWeighted(layer, alpha, roi, 1.0 - alpha, 0)
    return x0, y0


def _blend_circle(
    canvas: np.ndarray,
    xy: tuple[int, int],
    radius: int,
    color: tuple[int, int, int],
    alpha: float,
    thickness: int = -1,
) -> None:
    reach = radius + max(thickness, 0)
    pts = np.array([[xy[0] - reach, xy[1] - reach], [xy[0] + reach, xy[1] + reach]], dtype=np.float64)
    _blend_region(
        canvas,
        pts,
        alpha,
        lambda layer, o: cv2.circle(layer, (xy[0] - o[0], xy[1] - o[1]), radius, color, thickness),
    )


def _blend_line(canvas: np.ndarray, start: tuple[int, int], end: tuple[int, int], alpha: float) -> None:
    """A white 1-px line blended with `alpha` (AlphaPose's limbs past its colour table)."""
    pts = np.array([start, end], dtype=np.float64)
    _blend_region(
        canvas,
        pts,
        alpha,
        lambda layer, o: cv2.line(
            layer, (start[0] - o[0], start[1] - o[1]), (end[0] - o[0], end[1] - o[1]), WHITE_BGR, 1
        ),
    )


def _blend_limb(
    canvas: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    width: float,
    color: tuple[int, int, int],
    alpha: float,
) -> None:
    """A filled ellipse from `start` to `end` (half-width `width`), blended with `alpha`."""
    mx, my = (start[0] + end[0]) / 2.0, (start[1] + end[1]) / 2.0
    length = math.hypot(start[0] - end[0], start[1] - end[1])
    angle = math.degrees(math.atan2(start[1] - end[1], start[0] - end[0]))
    outline = cv2.ellipse2Poly((int(mx), int(my)), (int(length / 2), int(width)), int(angle), 0, 360, 1)
    polygon = np.asarray(outline)  # an (N, 2) int32 array already; cv2's stub calls it a sequence
    _blend_region(
        canvas,
        polygon.astype(np.float64),
        alpha,
        lambda layer, o: cv2.fillConvexPoly(layer, polygon - np.array(o, dtype=polygon.dtype), color),
    )
