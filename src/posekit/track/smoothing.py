"""One-Euro smoothing of tracked keypoints (Casiez, Roussel and Vogel, CHI 2012), with no added delay.

Each coordinate of each keypoint of each track is its own One-Euro filter, all of a track's run at once
with numpy. Per new sample x at time t (te = t - t_prev seconds):

    alpha(fc) = 1 / (1 + 1 / (2 pi fc te))
    dx  = (x - x_hat_prev) / te,              dx_hat = alpha(d_cutoff) dx + (1 - alpha(d_cutoff)) dx_hat_prev
    fc  = min_cutoff + beta |dx_hat| / scale, x_hat  = alpha(fc) x + (1 - alpha(fc)) x_hat_prev

and the first sample of a track passes unchanged. The output at frame t uses frames <= t only. `scale`
is the person's size in pixels (mean of the keypoint box's width and height, as MediaPipe's landmark
smoothing does), so beta means the same for a near and a far person; scale=1 gives the paper's filter.
A person standing still (small speed) gets the low min_cutoff (strong smoothing of jitter); a person
moving fast raises the cutoff and is followed with little lag.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from posekit.errors import PosekitError
from posekit.types import PoseResult

# Defaults chosen in benchmarks/track_e2e.py (README, "Video: people kept between detections"): on a
# still clip they cut the frame-to-frame jitter of the default model from 6.5 to 2.1 px, on a pan moving
# people ~37 px a frame they lag 10 px behind (beta 1: 25 px, beta 0: 100 px). min_cutoff and
# d_cutoff in Hz, beta per (person size per second).
DEFAULT_MIN_CUTOFF = 0.3
DEFAULT_BETA = 4.0
DEFAULT_D_CUTOFF = 1.0
DEFAULT_FPS = 25.0


@dataclass
class OneEuroParams:
    """The filter's three parameters (see the module docstring)."""

    min_cutoff: float = DEFAULT_MIN_CUTOFF
    beta: float = DEFAULT_BETA
    d_cutoff: float = DEFAULT_D_CUTOFF

    def __post_init__(self) -> None:
        if self.min_cutoff <= 0 or self.d_cutoff <= 0 or self.beta < 0:
            raise PosekitError(
                f"smoothing: min_cutoff and d_cutoff must be > 0 and beta >= 0, got min_cutoff="
                f"{self.min_cutoff}, beta={self.beta}, d_cutoff={self.d_cutoff}"
            )


def smoothing_factor(cutoff: np.ndarray | float, te: float) -> np.ndarray:
    """The exponential smoothing factor alpha of a first-order low-pass at `cutoff` Hz, step te seconds."""
    return 1.0 / (1.0 + 1.0 / (2.0 * np.pi * np.asarray(cutoff, dtype=np.float64) * te))


class OneEuroFilter:
    """One-Euro filters over an array of values of a fixed shape (e.g. (K, 2) keypoints), vectorised."""

    def __init__(self, params: OneEuroParams | None = None) -> None:
        self.params = params or OneEuroParams()
        self.value: np.ndarray | None = None
        self.speed: np.ndarray | None = None
        self.time: float | None = None

    def __call__(self, x: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """Filter the sample x taken at time t (seconds, increasing); scale divides the speed (see module)."""
        x = np.asarray(x, dtype=np.float64)
        if self.value is None or self.time is None:
            self.value, self.speed, self.time = x.copy(), np.zeros_like(x), float(t)
            return x.copy()
        te = float(t) - self.time
        if te <= 0:
            raise PosekitError(f"smoothing: timestamps must increase (got {t} after {self.time})")
        p = self.params
        a_d = smoothing_factor(p.d_cutoff, te)
        self.speed = a_d * (x - self.value) / te + (1.0 - a_d) * self.speed
        cutoff = p.min_cutoff + p.beta * np.abs(self.speed) / max(float(scale), 1e-9)
        a = smoothing_factor(cutoff, te)
        self.value = a * x + (1.0 - a) * self.value
        self.time = float(t)
        return self.value.copy()


def person_scale(keypoints: np.ndarray, scores: np.ndarray, kp_thresh: float = 0.3) -> float:
    """Size of one person in pixels: mean of the width and height of its confident keypoints' box."""
    use = scores >= kp_thresh
    pts = keypoints[use] if use.sum() >= 2 else keypoints
    extent = pts.max(axis=0) - pts.min(axis=0)
    return float(max(extent.mean(), 1.0))


class TrackSmoother:
    """One-Euro smoothing of each track's keypoints in tracked PoseResults (ids are track ids).

    State lives per track id and is dropped as soon as a frame comes without that id (the track ended or
    was lost), so an id that comes back later starts afresh. Timestamps are seconds; without them frame n
    is at n / fps.
    """

    def __init__(self, params: OneEuroParams | None = None, fps: float | None = None) -> None:
        self.params = params or OneEuroParams()
        self.fps = float(fps) if fps and fps > 0 else DEFAULT_FPS
        self.frame = -1
        self.time: float | None = None
        self.filters: dict[int, OneEuroFilter] = {}

    def __call__(self, result: PoseResult, timestamp: float | None = None) -> PoseResult:
        """The result with every person's keypoints smoothed along their track; a timestamp that does
        not increase (or None) is taken as the previous one plus 1 / fps."""
        self.frame += 1
        step = 1.0 / self.fps
        t = self.frame * step if self.time is None else self.time + step
        if timestamp is not None and (self.time is None or float(timestamp) > self.time):
            t = float(timestamp)
        self.time = t
        ids = [int(i) for i in result.ids]
        if len(ids) != len(result):
            raise PosekitError("smoothing needs tracked results (one track id per person)")
        keypoints = np.array(result.keypoints, dtype=np.float64, copy=True)
        scores = np.asarray(result.keypoint_scores, dtype=np.float64)
        for n, tid in enumerate(ids):
            f = self.filters.setdefault(tid, OneEuroFilter(self.params))
            keypoints[n] = f(keypoints[n], t, person_scale(keypoints[n], scores[n]))
        self.filters = {tid: f for tid, f in self.filters.items() if tid in set(ids)}
        return dataclasses.replace(result, keypoints=keypoints)
