"""The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012), vectorised over arrays, with no added delay.

Per new sample x at time t (te = t - t_prev seconds):

    alpha(fc) = 1 / (1 + 1 / (2 pi fc te))
    dx  = (x - x_hat_prev) / te,              dx_hat = alpha(d_cutoff) dx + (1 - alpha(d_cutoff)) dx_hat_prev
    fc  = min_cutoff + beta |dx_hat| / scale, x_hat  = alpha(fc) x + (1 - alpha(fc)) x_hat_prev

and the first sample passes unchanged; the output at time t uses samples <= t only. `scale` divides the
speed (a person's size in pixels, so beta means the same for a near and a far person; 1 gives the paper's
filter). A still signal gets the low min_cutoff (strong smoothing of jitter); a fast one raises the
cutoff and is followed with little lag. Used for tracked keypoints (posekit.track.smoothing) and for the
default model's tracking region (posekit.families.blazepose.landmarks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posekit.choices import DEFAULT_BETA, DEFAULT_D_CUTOFF, DEFAULT_MIN_CUTOFF
from posekit.errors import PosekitError

# The defaults (posekit.choices) were chosen in benchmarks/track_e2e.py: on a
# still clip they cut the frame-to-frame jitter of the default model from 6.5 to 2.1 px, on a pan moving
# people ~37 px a frame they lag 10 px behind (beta 1: 25 px, beta 0: 100 px). min_cutoff and
# d_cutoff in Hz, beta per (person size per second).
DEFAULT_FPS = 25.0


@dataclass
class OneEuroParams:
    """The filter's three parameters (see the module docstring)."""

    min_cutoff: float = DEFAULT_MIN_CUTOFF
    beta: float = DEFAULT_BETA
    d_cutoff: float = DEFAULT_D_CUTOFF

    def __post_init__(self) -> None:
        try:
            values = [float(v) for v in (self.min_cutoff, self.beta, self.d_cutoff)]
        except (TypeError, ValueError):
            values = [math.nan] * 3
        if not all(map(math.isfinite, values)) or values[0] <= 0 or values[2] <= 0 or values[1] < 0:
            raise PosekitError(
                f"smoothing: min_cutoff and d_cutoff must be finite numbers > 0 and beta one >= 0, got "
                f"min_cutoff={self.min_cutoff}, beta={self.beta}, d_cutoff={self.d_cutoff}"
            )
        self.min_cutoff, self.beta, self.d_cutoff = values


class FrameClock:
    """The filters' time of each frame of a stream: its timestamp (seconds) when it has one later than
    the last frame's time, else the last time plus 1 / fps (the first frame without one is at 0), so the
    steps between frames are > 0 and add up to the time between real timestamps."""

    def __init__(self, fps: float | None = None) -> None:
        self.fps = float(fps) if fps and fps > 0 else DEFAULT_FPS
        self.time: float | None = None

    def tick(self, timestamp: float | None = None) -> tuple[float, float]:
        """This frame's time and its step from the last frame (1 / fps for the first)."""
        step = 1.0 / self.fps
        t = 0.0 if self.time is None else self.time + step
        if timestamp is not None and (self.time is None or float(timestamp) > self.time):
            t = float(timestamp)
            step = step if self.time is None else t - self.time
        self.time = t
        return t, step


def smoothing_factor(cutoff: np.ndarray | float, te: float) -> np.ndarray:
    """The exponential smoothing factor alpha of a first-order low-pass at `cutoff` Hz, step te seconds."""
    return 1.0 / (1.0 + 1.0 / (2.0 * np.pi * np.asarray(cutoff, dtype=np.float64) * te))


def one_euro_step(
    x: np.ndarray, value: np.ndarray, speed: np.ndarray, te: float, params: OneEuroParams, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One step of the filter (module docstring): the new sample x, te seconds after the state (value,
    speed) -> the new (value, speed). scale divides the speed."""
    x, value, speed = (np.asarray(v, dtype=np.float64) for v in (x, value, speed))
    a_d = smoothing_factor(params.d_cutoff, te)
    speed = a_d * (x - value) / te + (1.0 - a_d) * speed
    cutoff = params.min_cutoff + params.beta * np.abs(speed) / max(float(scale), 1e-9)
    a = smoothing_factor(cutoff, te)
    return a * x + (1.0 - a) * value, speed


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
        if self.value is None or self.speed is None or self.time is None:
            self.value, self.speed, self.time = x.copy(), np.zeros_like(x), float(t)
            return x.copy()
        te = float(t) - self.time
        if te <= 0:
            raise PosekitError(f"smoothing: timestamps must increase (got {t} after {self.time})")
        self.value, self.speed = one_euro_step(x, self.value, self.speed, te, self.params, scale)
        self.time = float(t)
        return self.value.copy()
