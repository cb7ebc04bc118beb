"""COCO keypoint training/validation samples: one per annotated person, with AlphaPose's augmentation."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from torch.utils.data import Dataset

from posekit.config import AugConfig, Config, DatasetSplit
from posekit.errors import PosekitError
from posekit.geometry import affine_points, box_to_center_scale, get_affine_transform, normalize_crops
from posekit.io.coco import read_coco_people
from posekit.io.images import read_image_rgb
from posekit.skeleton import flip_pairs, set_for_config
from posekit.train.targets import head_targets

# DPG box jitter: Gaussian offsets of each edge, as fractions of the box size (mean, std).
DPG_EDGE_NOISE = ((-0.0142, 0.1158), (0.0043, 0.068), (0.0154, 0.1337), (-0.0013, 0.0711))


def check_image_files(paths: list[Path], ann_path: Path) -> None:
    """Before any epoch: PosekitError naming the first image of `ann_path` that is missing or empty."""
    bad = []
    for path in paths:
        try:
            size = path.stat().st_size
        except OSError:
            bad.append(f"{path}: image file not found")
            continue
        if size == 0:
            bad.append(f"{path}: image file is empty")
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise PosekitError(f"{bad[0]}{more}; listed in {ann_path}")


def training_flip_pairs(cfg: Config, names: list[str]) -> list[tuple[int, int]]:
    """The flip pairs of the config's keypoint set (posekit.skeleton.set_for_config: its dataset TYPE or
    joint count) when the annotation's keypoint names are that set's or the TYPE names the set; else
    the pairs found by swapping 'left' and 'right' in the names (a custom set)."""
    kset = set_for_config(cfg)
    by_type = str(cfg.dataset.train.type).lower() not in ("mscoco", "custom")
    if kset.name != "custom" and len(names) == kset.num_joints and (tuple(names) == kset.names or by_type):
        return list(kset.flip_pairs)
    return flip_pairs(names)


class KeypointDataset(Dataset):
    """Person crops and targets by LOSS.TYPE (posekit.train.targets.head_targets): (image 3xHxW, target,
    weight, image id, crop box); heatmaps Kxhxw with weights Kx1x1, integral targets K*2, or both."""

    def __init__(
        self, cfg: Config, split: DatasetSplit, train: bool, dpg: bool = False, seed: int = 0
    ) -> None:
        self.preset = cfg.data_preset
        self.aug: AugConfig = split.aug
        self.train = train
        self.dpg = dpg
        self.seed = seed
        self.epoch = 0
        self.people, self.keypoint_names = read_coco_people(split.coco_files, cfg.data_preset.num_joints)
        if not self.people:
            raise PosekitError(f"{split.ann_path}: no usable person annotations (need keypoints and a box)")
        check_image_files(sorted({p.image_path for p in self.people}), split.ann_path)
        self.pairs = training_flip_pairs(cfg, self.keypoint_names)
        self.loss_type = cfg.loss.type
        self.upper_body = [i for i, name in enumerate(self.keypoint_names) if not _is_lower(name)]

    def set_epoch(self, epoch: int) -> None:
        """Change the augmentation random stream (call once per epoch)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.people)

    def __getitem__(self, index: int):
        person = self.people[index]
        image = read_image_rgb(person.image_path)
        rng = np.random.default_rng([self.seed, self.epoch, index])
        inp_h, inp_w = self.preset.image_size
        joints, visible = person.joints.copy(), person.visible.copy()
        x1, y1, x2, y2 = self._jitter(person.box, image.shape, rng) if self.train and self.dpg else person.box
        center, scale = box_to_center_scale(x1, y1, x2 - x1, y2 - y1, inp_w / inp_h)
        rot = 0.0
        if self.train:
            center, scale = self._half_body(joints, visible, center, scale, rng)
            sf, rf = self.aug.scale_factor, self.aug.rot_factor
            scale = scale * np.clip(rng.standard_normal() * sf + 1, 1 - sf, 1 + sf)
            rot = float(np.clip(rng.standard_normal() * rf, -2 * rf, 2 * rf)) if rng.random() <= 0.6 else 0.0
            if self.aug.flip and rng.random() < 0.5:
                image, joints, visible, center = self._flip(image, joints, visible, center)
        matrix = get_affine_transform(center, scale, rot, (inp_w, inp_h))
        crop = cv2.warpAffine(image, matrix, (inp_w, inp_h), flags=cv2.INTER_LINEAR)
        joints = affine_points(joints, matrix) * (visible[:, None] > 0)
        target, weight = head_targets(
            self.loss_type, joints, visible, self.preset.heatmap_size, (inp_h, inp_w), self.preset.sigma
        )
        crop_box = np.array(
            [
                center[0] - scale[0] / 2,
                center[1] - scale[1] / 2,
                center[0] + scale[0] / 2,
                center[1] + scale[1] / 2,
            ]
        )
        return normalize_crops(crop[None])[0], target, weight, person.image_id, crop_box.astype(np.float32)

    def _flip(self, image, joints, visible, center):
        width = image.shape[1]
        image = np.ascontiguousarray(image[:, ::-1])
        joints = joints.copy()
        joints[:, 0] = width - joints[:, 0] - 1
        for a, b in self.pairs:
            joints[[a, b]] = joints[[b, a]]
            visible[[a, b]] = visible[[b, a]]
        joints *= visible[:, None] > 0
        center = np.array([width - center[0] - 1, center[1]])
        return image, joints, visible, center

    def _half_body(self, joints, visible, center, scale, rng):
        if not (visible.sum() > self.aug.num_joints_half_body and rng.random() < self.aug.prob_half_body):
            return center, scale
        vis = np.nonzero(visible > 0)[0]
        upper = [i for i in vis if i in self.upper_body]
        lower = [i for i in vis if i not in self.upper_body]
        chosen = (
            upper
            if (rng.standard_normal() < 0.5 and len(upper) > 2)
            else (lower if len(lower) > 2 else upper)
        )
        if len(chosen) < 2:
            return center, scale
        inp_h, inp_w = self.preset.image_size
        return half_body_center_scale(joints[chosen], inp_w / inp_h)

    @staticmethod
    def _jitter(box, shape, rng):
        """DPG box jitter of the person box on an image of `shape` (see `dpg_box`)."""
        return dpg_box(box, shape[1], shape[0], rng)


def dpg_box(
    box: tuple[float, float, float, float], width: int, height: int, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """AlphaPose's addDPG on an xyxy box: one PatchScale ~ U(0, 1); above 0.85 a sub-patch of that scale
    with the box's aspect at a uniform random offset (+1 px, not clipped), otherwise Gaussian edge
    offsets clipped to 1 .. width - 3 / height - 3. A box that collapses to a point stays as it was."""
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    patch_scale = rng.random()
    if patch_scale > 0.85:
        if w < h:
            pw = patch_scale * w
            ph = pw * h / w
        else:
            ph = patch_scale * h
            pw = ph * w / h
        nx1 = x1 + rng.random() * (w - pw)
        ny1 = y1 + rng.random() * (h - ph)
        return (nx1, ny1, nx1 + pw + 1, ny1 + ph + 1)
    (m0, s0), (m1, s1), (m2, s2), (m3, s3) = DPG_EDGE_NOISE
    nx1 = max(1.0, min(x1 + rng.normal(m0, s0) * w, width - 3))
    ny1 = max(1.0, min(y1 + rng.normal(m1, s1) * h, height - 3))
    nx2 = min(max(nx1 + 2, x2 + rng.normal(m2, s2) * w), width - 3)
    ny2 = min(max(ny1 + 2, y2 + rng.normal(m3, s3) * h), height - 3)
    return (nx1, ny1, nx2, ny2) if nx2 > nx1 or ny2 > ny1 else box


def half_body_center_scale(points: np.ndarray, aspect_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Half-body crop of the chosen joints (N, 2): center = their mean (not their box centre), scale =
    their box's [w, h] widened to `aspect_ratio` (w/h), times 1.5."""
    w, h = points.max(axis=0) - points.min(axis=0)
    _, scale = box_to_center_scale(0.0, 0.0, float(w), float(h), aspect_ratio, scale_mult=1.5)
    return points.mean(axis=0), scale


def _is_lower(name: str) -> bool:
    return any(part in name for part in ("hip", "knee", "ankle", "foot", "heel", "toe"))
