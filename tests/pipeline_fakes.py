"""Small deterministic stand-ins for a detector and a pose model, for pipeline tests."""

from __future__ import annotations

import threading

import numpy as np

from posekit.types import Detections, Poses


class FakeDetector:
    """Two people per image, boxes derived from the image size; records the batch sizes it saw."""

    name = "fake"

    def __init__(self) -> None:
        self.batches: list[int] = []
        self.threads: set[str] = set()

    def detect(self, images):
        self.batches.append(len(images))
        self.threads.add(threading.current_thread().name)
        out = []
        for image in images:
            h, w = image.shape[:2]
            boxes = np.array([[0.1 * w, 0.1 * h, 0.45 * w, 0.9 * h], [0.55 * w, 0.2 * h, 0.9 * w, 0.95 * h]])
            out.append(Detections(boxes.astype(np.float32), np.array([0.95, 0.8], dtype=np.float32)))
        return out


class FakePoseModel:
    """A pose spread over each box, shifted by the image's mean colour; scores from the pixels."""

    num_joints = 17
    pose_nms = True

    def __init__(self) -> None:
        self.calls: list[np.ndarray] = []

    def estimate(self, image, people, hints=None):
        self.calls.append(np.array(people.boxes, dtype=np.float64))
        boxes = np.asarray(people.boxes, dtype=np.float64)
        shift = float(image.mean()) / 255.0
        grid = np.stack([np.linspace(0.2, 0.8, 17), np.linspace(0.05, 0.95, 17)], axis=1)
        size = boxes[:, None, 2:] - boxes[:, None, :2]
        keypoints = boxes[:, None, :2] + (grid[None] * (0.9 + 0.1 * shift)) * size
        ys = np.clip(keypoints[..., 1].astype(int), 0, image.shape[0] - 1)
        xs = np.clip(keypoints[..., 0].astype(int), 0, image.shape[1] - 1)
        scores = 0.5 + 0.5 * image[ys, xs, 0] / 255.0
        return Poses(keypoints, scores)
