"""When the detector runs in video: every `interval` frames, on the first frame and after a scene cut."""

from __future__ import annotations

import cv2
import numpy as np

HIST_BINS = 32
SCENE_CUT = 0.3  # Bhattacharyya distance of the grey histograms above which a frame is a new scene
# (measured on posetrack18-mini: 0.03-0.05 between consecutive frames of its clip or of a fast pan,
# 0.44-0.68 between frames of different videos)


def grey_histogram(image_rgb: np.ndarray, bins: int = HIST_BINS) -> np.ndarray:
    """Normalised grey-level histogram (bins,) float32 of an RGB image, from a 64-pixel-high thumbnail."""
    h, w = image_rgb.shape[:2]
    small = cv2.resize(image_rgb, (max(1, round(64 * w / max(h, 1))), 64), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY) if small.ndim == 3 else small
    hist = cv2.calcHist([grey], [0], None, [bins], [0, 256]).ravel()
    return (hist / max(float(hist.sum()), 1.0)).astype(np.float32)


def histogram_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Bhattacharyya distance of two normalised histograms: 0 = same, 1 = disjoint."""
    return float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA))


class DetectionSchedule:
    """Says for each frame, in order, whether the detector runs on it (interval 1: every frame)."""

    def __init__(self, interval: int = 1, scene_cut: float = SCENE_CUT) -> None:
        self.interval = max(1, int(interval))
        self.scene_cut = float(scene_cut)
        self.since = 0  # frames since the detector last ran
        self.cut = False  # whether the last frame judged began a new scene (the first frame does)
        self._previous: np.ndarray | None = None

    def __call__(self, image_rgb: np.ndarray) -> bool:
        """True when the detector should run on this frame (and `cut` says whether it is a new scene)."""
        if self.interval == 1:
            return True
        hist = grey_histogram(image_rgb)
        self.cut = self._previous is None or histogram_distance(self._previous, hist) > self.scene_cut
        self._previous = hist
        run = self.cut or self.since + 1 >= self.interval
        self.since = 0 if run else self.since + 1
        return run
