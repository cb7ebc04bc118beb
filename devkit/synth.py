"""Synthetic tracking sequences with known identities, made from real people and a real background.

People (cut out with their COCO segmentation, carrying their keypoint annotations) from
coco-val-mini walk back and forth across a COCO street image (its own people inpainted away). Paths
cross, nearer people occlude farther ones, and some walk out of the frame and come back. Each frame
has ground truth (visible people, exact keypoints, ids) and "detections" (the same poses with keypoint
jitter, realistic scores and a few missed people), so trackers can be scored with known ids.

make_pan_sequence does the same on real PoseTrack18 pixels and poses: posetrack18-mini annotates one
frame per video, so a camera window pans over that frame (people leave the view and come back) and the
annotated track ids are the ground truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from posekit.errors import PosekitError
from posekit.io.images import read_image_rgb
from posekit.types import PoseResult

BACKGROUND_IMAGE = "000000040083.jpg"


@dataclass
class Sprite:
    """One person cut out of a photo: RGB pixels, alpha mask, keypoints (K, 2) and which are labelled."""

    image: np.ndarray
    alpha: np.ndarray
    keypoints: np.ndarray
    labelled: np.ndarray


@dataclass
class Walker:
    """A sprite at a fixed height walking back and forth between x_lo and x_hi (top-left x)."""

    sprite: Sprite
    x_lo: float
    x_hi: float
    speed: float
    phase: float
    y: float

    def x_at(self, t: int) -> float:
        """Top-left x at frame t (a triangle wave: turning round at both ends)."""
        span = self.x_hi - self.x_lo
        s = (self.phase + self.speed * t) % (2 * span)
        return self.x_lo + (s if s <= span else 2 * span - s)


def _annotations(coco_dir: Path) -> tuple[dict, list[dict]]:
    path = coco_dir / "annotations" / "person_keypoints_val2017.json"
    if not path.is_file():
        raise PosekitError(f"{path}: COCO keypoint annotations not found")
    data = json.loads(path.read_text())
    return {im["id"]: im for im in data["images"]}, data["annotations"]


def _polygon_mask(ann: dict, shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    for poly in ann.get("segmentation") or []:
        pts = np.asarray(poly, dtype=np.float64).reshape(-1, 2)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 255)
    return mask


def load_sprites(coco_dir: str | Path, min_keypoints: int = 10, height: int = 300) -> list[Sprite]:
    """Every annotated person with >= min_keypoints labelled keypoints, scaled to `height` pixels."""
    coco_dir = Path(coco_dir)
    images, anns = _annotations(coco_dir)
    sprites = []
    for ann in anns:
        if ann.get("iscrowd") or ann.get("num_keypoints", 0) < min_keypoints:
            continue
        info = images[ann["image_id"]]
        image = read_image_rgb(coco_dir / "val2017" / info["file_name"])
        mask = _polygon_mask(ann, image.shape[:2])
        x, y, w, h = (round(v) for v in ann["bbox"])
        x0, y0 = max(x, 0), max(y, 0)
        crop, alpha = image[y0 : y + h, x0 : x + w], mask[y0 : y + h, x0 : x + w]
        kps = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
        f = height / crop.shape[0]
        size = (max(round(crop.shape[1] * f), 1), height)
        sprites.append(
            Sprite(
                image=cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR),
                alpha=cv2.resize(alpha, size, interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255.0,
                keypoints=(kps[:, :2] - [x0, y0]) * f,
                labelled=kps[:, 2] > 0,
            )
        )
    return sprites


def load_background(coco_dir: str | Path, size: tuple[int, int]) -> np.ndarray:
    """The street image of coco-val-mini with its people inpainted away, resized to size (w, h)."""
    coco_dir = Path(coco_dir)
    images, anns = _annotations(coco_dir)
    info = next((im for im in images.values() if im["file_name"] == BACKGROUND_IMAGE), None)
    if info is None:
        raise PosekitError(f"{coco_dir}: background image {BACKGROUND_IMAGE} is not annotated there")
    image = read_image_rgb(coco_dir / "val2017" / BACKGROUND_IMAGE)
    mask = np.zeros(image.shape[:2], dtype=np.uint8)
    for ann in anns:
        if ann["image_id"] == info["id"]:
            mask |= _polygon_mask(ann, image.shape[:2])
    mask = cv2.dilate(mask, np.ones((9, 9), np.uint8))
    clean = cv2.inpaint(image, mask, 5, cv2.INPAINT_TELEA)
    return cv2.resize(clean, size, interpolation=cv2.INTER_LINEAR)


@dataclass
class SyntheticSequence:
    """Frames rendered on demand plus ground truth and detections per frame (ids = walker index + 1)."""

    background: np.ndarray
    walkers: list[Walker]
    ground_truth: list[PoseResult] = field(default_factory=list)
    detections: list[PoseResult] = field(default_factory=list)
    _placements: list[list[tuple[int, int, int]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ground_truth)

    def frame(self, t: int) -> np.ndarray:
        """The RGB frame t: background with the walkers pasted far-to-near."""
        out = self.background.astype(np.float32)
        h, w = out.shape[:2]
        for index, x, y in self._placements[t]:
            sprite = self.walkers[index].sprite
            sh, sw = sprite.alpha.shape
            x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + sw, w), min(y + sh, h)
            if x1 <= x0 or y1 <= y0:
                continue
            a = sprite.alpha[y0 - y : y1 - y, x0 - x : x1 - x, None]
            src = sprite.image[y0 - y : y1 - y, x0 - x : x1 - x]
            out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1 - a) + src * a
        return out.astype(np.uint8)

    def frames(self) -> Iterator[np.ndarray]:
        """All frames in order (rendered one at a time)."""
        for t in range(len(self)):
            yield self.frame(t)


def make_sequence(
    coco_dir: str | Path,
    num_frames: int = 60,
    size: tuple[int, int] = (1280, 720),
    num_people: int = 5,
    seed: int = 0,
    jitter: float = 2.0,
    miss_rate: float = 0.03,
    min_visible: float = 0.35,
) -> SyntheticSequence:
    """A sequence of num_frames frames of size (w, h) with num_people walkers (distinct sprites).

    A person is in the ground truth when at least `min_visible` of its silhouette is in view and
    unoccluded and at least 4 labelled keypoints are visible; detections drop `miss_rate` of those.
    """
    rng = np.random.default_rng(seed)
    w, h = size
    sprites = load_sprites(coco_dir, height=int(0.45 * h))
    if num_people > len(sprites):
        raise PosekitError(f"{coco_dir}: only {len(sprites)} people usable, {num_people} asked for")
    chosen = rng.choice(len(sprites), size=num_people, replace=False)
    walkers = []
    for i, k in enumerate(chosen):
        sprite = sprites[k]
        sw = sprite.alpha.shape[1]
        leaves = i % 3 == 0  # every third person walks out of the frame and comes back
        x_lo = -0.9 * sw if leaves else rng.uniform(0.0, 0.35) * w
        x_hi = rng.uniform(0.6, 0.9) * w if leaves else rng.uniform(0.55, 0.95) * w - sw
        walkers.append(
            Walker(
                sprite=sprite,
                x_lo=float(x_lo),
                x_hi=float(max(x_hi, x_lo + 0.2 * w)),
                speed=float(rng.uniform(0.008, 0.016) * w),
                phase=float(rng.uniform(0, 2 * w)),
                y=float(h * 0.5 + rng.uniform(-0.06, 0.06) * h - 0.45 * h * 0.5),
            )
        )
    seq = SyntheticSequence(background=load_background(coco_dir, size), walkers=walkers)
    for t in range(num_frames):
        _add_frame(seq, t, rng, jitter, miss_rate, min_visible)
    return seq


def _add_frame(seq: SyntheticSequence, t: int, rng, jitter: float, miss_rate: float, min_visible: float):
    h, w = seq.background.shape[:2]
    placed = []
    for i, walker in enumerate(seq.walkers):
        sway = 0.02 * h * np.sin(0.15 * t + i)
        placed.append((i, round(walker.x_at(t)), round(walker.y + sway)))
    # Far to near: the lower a person's feet, the nearer.
    placed.sort(key=lambda p: p[2] + seq.walkers[p[0]].sprite.alpha.shape[0])
    seq._placements.append(placed)
    cover = np.zeros((h, w), dtype=np.float32)  # silhouettes of nearer people, filled near to far
    people = []
    for i, x, y in reversed(placed):
        sprite = seq.walkers[i].sprite
        sh, sw = sprite.alpha.shape
        own = np.zeros((h, w), dtype=np.float32)
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + sw, w), min(y + sh, h)
        if x1 > x0 and y1 > y0:
            own[y0:y1, x0:x1] = sprite.alpha[y0 - y : y1 - y, x0 - x : x1 - x]
        seen = float((own * (1 - cover)).sum() / max(sprite.alpha.sum(), 1.0))
        kps = sprite.keypoints + np.array([x, y], dtype=np.float64)
        ix = np.clip(np.round(kps[:, 0]).astype(int), 0, w - 1)
        iy = np.clip(np.round(kps[:, 1]).astype(int), 0, h - 1)
        inside = (kps[:, 0] >= 0) & (kps[:, 0] < w) & (kps[:, 1] >= 0) & (kps[:, 1] < h)
        visible = sprite.labelled & inside & (cover[iy, ix] < 0.5)
        cover = np.maximum(cover, own)
        if seen >= min_visible and visible.sum() >= 4:
            box = np.array([x, y, x + sw, y + sh], dtype=np.float64).clip(0, [w, h, w, h])
            people.append((i, kps, visible, box))
    people.sort()
    seq.ground_truth.append(_result(people, [p[1] for p in people], [p[2].astype(float) for p in people]))
    labelled = [walker.sprite.labelled for walker in seq.walkers]
    seq.detections.append(_detections(people, labelled, (w, h), rng, jitter, miss_rate))


POSETRACK_VIDEO = "012834_mpii_test"


@dataclass
class PanSequence:
    """A camera window panning over one real frame: crops at known offsets, ground truth and detections."""

    image: np.ndarray
    size: tuple[int, int]
    offsets: list[tuple[int, int]] = field(default_factory=list)
    ground_truth: list[PoseResult] = field(default_factory=list)
    detections: list[PoseResult] = field(default_factory=list)
    ignore_regions: list[np.ndarray] = field(default_factory=list)  # polygons (P, 2) in image pixels

    def __len__(self) -> int:
        return len(self.offsets)

    def ignore_mask(self, t: int) -> np.ndarray:
        """(h, w) bool mask of frame t's pixels inside the annotation's ignore regions (PoseTrack's
        unannotated crowds: people there are neither ground truth nor false positives)."""
        (x, y), (w, h) = self.offsets[t], self.size
        mask = np.zeros(self.image.shape[:2], dtype=np.uint8)
        if self.ignore_regions:
            cv2.fillPoly(mask, [np.round(p).astype(np.int32) for p in self.ignore_regions], 1)
        return mask[y : y + h, x : x + w].astype(bool)

    def ignore_masks(self) -> list[np.ndarray]:
        """ignore_mask of every frame."""
        return [self.ignore_mask(t) for t in range(len(self))]

    def frame(self, t: int) -> np.ndarray:
        """The RGB frame t: the window of `size` (w, h) at offsets[t] (top-left x, y)."""
        (x, y), (w, h) = self.offsets[t], self.size
        return np.ascontiguousarray(self.image[y : y + h, x : x + w])

    def frames(self) -> Iterator[np.ndarray]:
        """All frames in order."""
        for t in range(len(self)):
            yield self.frame(t)


def make_pan_sequence(
    posetrack_dir: str | Path,
    num_frames: int = 60,
    size: tuple[int, int] = (1280, 720),
    seed: int = 0,
    jitter: float = 2.0,
    miss_rate: float = 0.03,
) -> PanSequence:
    """num_frames windows of size (w, h) over PoseTrack18 frame 012834_mpii_test/000000.jpg (1920x1080,
    11 annotated people) along a pan: x sweeps from the left edge to the right one and back, y from the
    middle down, up and back, so people at the sides leave the view and come back.

    Ground truth: people with >= 4 labelled keypoints in view, id = annotated track_id + 1, box = the
    annotated box clipped to the view; the frame's ignore regions (the unannotated spectators) are kept
    for the metrics (PanSequence.ignore_mask). Detections: as in make_sequence (jitter, scores, misses).
    """
    root = Path(posetrack_dir)
    data = json.loads((root / "annotations" / "val" / f"{POSETRACK_VIDEO}.json").read_text())
    image = read_image_rgb(root / data["images"][0]["file_name"])
    (big_h, big_w), (w, h) = image.shape[:2], size
    if w > big_w or h > big_h:
        raise PosekitError(f"a {w}x{h} window does not fit in the {big_w}x{big_h} frame")
    rng = np.random.default_rng(seed)
    anns = sorted(data["annotations"], key=lambda a: a["track_id"])
    poses = {a["track_id"]: np.asarray(a["keypoints"], dtype=np.float64).reshape(-1, 3) for a in anns}
    labelled = {i: kps[:, 2] > 0 for i, kps in poses.items()}
    first = data["images"][0]
    regions = [
        np.stack([xs, ys], axis=1).astype(np.float64)
        for xs, ys in zip(first.get("ignore_regions_x", []), first.get("ignore_regions_y", []))
        if len(xs) >= 3
    ]
    seq = PanSequence(image=image, size=size, ignore_regions=regions)
    for t in range(num_frames):
        phase = 2 * np.pi * t / num_frames
        x0 = round((big_w - w) * (0.5 - 0.5 * np.cos(phase)))
        y0 = round((big_h - h) * (0.5 + 0.5 * np.sin(phase)))
        seq.offsets.append((x0, y0))
        people = []
        for a in anns:
            i = a["track_id"]
            kps = poses[i][:, :2] - [x0, y0]
            inside = (kps[:, 0] >= 0) & (kps[:, 0] < w) & (kps[:, 1] >= 0) & (kps[:, 1] < h)
            visible = labelled[i] & inside
            if visible.sum() >= 4:
                bx, by, bw, bh = a["bbox"]
                box = np.array([bx - x0, by - y0, bx + bw - x0, by + bh - y0]).clip(0, [w, h, w, h])
                people.append((i, kps, visible, box))
        seq.ground_truth.append(_result(people, [p[1] for p in people], [p[2].astype(float) for p in people]))
        seq.detections.append(_detections(people, labelled, size, rng, jitter, miss_rate))
    return seq


def _detections(people, labelled, size: tuple[int, int], rng, jitter: float, miss_rate: float) -> PoseResult:
    """The (index, keypoints, visible, box) people as a detector sees them: `miss_rate` of them missed,
    the rest in random order with keypoint jitter (points not labelled in labelled[index] scattered
    around the body), high scores where visible, low elsewhere, and 2 px box noise."""
    w, h = size
    kept = [people[j] for j in rng.permutation(len(people)) if rng.random() >= miss_rate]
    det_kps, det_scores = [], []
    for i, kps, visible, _ in kept:
        known = labelled[i]
        centre = kps[known].mean(0)
        guess = np.where(known[:, None], kps, centre + rng.normal(0, 10, kps.shape))
        det_kps.append(np.clip(guess + rng.normal(0, jitter, kps.shape), 0, [w - 1, h - 1]))
        det_scores.append(
            np.where(visible, rng.uniform(0.6, 0.95, len(kps)), rng.uniform(0.02, 0.3, len(kps)))
        )
    return _result(kept, det_kps, det_scores, rng)


def _result(people, kps, scores, rng=None) -> PoseResult:
    """PoseResult of (id, _, _, box) tuples with the given keypoints and scores (ids kept for gt only)."""
    if not people:
        return PoseResult.empty(17)
    boxes = np.stack([p[3] for p in people])
    if rng is not None:
        boxes = boxes + rng.normal(0, 2.0, boxes.shape)
    scores = np.stack(scores)
    return PoseResult(
        boxes=boxes,
        box_scores=np.full(len(people), 0.9),
        keypoints=np.stack(kps),
        keypoint_scores=scores,
        scores=scores.mean(1) + 0.9 + 1.25 * scores.max(1),
        ids=[p[0] + 1 for p in people] if rng is None else [],
    )
