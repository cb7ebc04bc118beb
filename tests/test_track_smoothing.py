"""One-Euro smoothing: the paper's equations, constant and still signals, timestamps, tracks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posekit.errors import PosekitError
from posekit.one_euro import OneEuroFilter, OneEuroParams
from posekit.track.smoothing import TrackSmoother
from posekit.types import PoseResult


class PaperOneEuro:
    """A scalar transcription of the pseudocode of Casiez et al. 2012 (LowPassFilter + OneEuroFilter)."""

    def __init__(self, mincutoff: float, beta: float, dcutoff: float) -> None:
        self.mincutoff, self.beta, self.dcutoff = mincutoff, beta, dcutoff
        self.x_prev = self.dx_prev = self.lasttime = None

    @staticmethod
    def alpha(rate: float, cutoff: float) -> float:
        tau = 1.0 / (2 * math.pi * cutoff)
        te = 1.0 / rate
        return 1.0 / (1.0 + tau / te)

    def filter(self, x: float, timestamp: float) -> float:
        if self.lasttime is None:
            self.x_prev, self.dx_prev, self.lasttime = x, 0.0, timestamp
            return x
        rate = 1.0 / (timestamp - self.lasttime)
        self.lasttime = timestamp
        dx = (x - self.x_prev) * rate
        a_d = self.alpha(rate, self.dcutoff)
        edx = a_d * dx + (1 - a_d) * self.dx_prev
        self.dx_prev = edx
        cutoff = self.mincutoff + self.beta * abs(edx)
        a = self.alpha(rate, cutoff)
        self.x_prev = a * x + (1 - a) * self.x_prev
        return self.x_prev


def test_matches_the_papers_equations_on_every_coordinate():
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.uniform(0.02, 0.06, 25))  # irregular frame times
    signal = np.cumsum(rng.normal(0, 3, (25, 4, 2)), axis=0) + 100.0
    params = OneEuroParams(min_cutoff=0.8, beta=0.05, d_cutoff=1.3)
    vectorised = OneEuroFilter(params)
    ours = np.stack([vectorised(x, t) for x, t in zip(signal, times)])
    reference = np.zeros_like(signal)
    for k in range(4):
        for c in range(2):
            paper = PaperOneEuro(0.8, 0.05, 1.3)
            reference[:, k, c] = [paper.filter(float(x), float(t)) for x, t in zip(signal[:, k, c], times)]
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-9)
    assert np.abs(ours - signal).max() > 1.0  # it did smooth


def test_scale_divides_the_speed_term():
    """scale s with beta b is the paper's filter with beta b / s."""
    signal = np.linspace(0, 50, 12)[:, None] ** 1.5
    times = np.arange(12) / 30.0
    scaled = OneEuroFilter(OneEuroParams(1.0, 2.0, 1.0))
    paper = PaperOneEuro(1.0, 2.0 / 40.0, 1.0)
    ours = [float(scaled(x, t, scale=40.0)[0]) for x, t in zip(signal, times)]
    ref = [paper.filter(float(x[0]), float(t)) for x, t in zip(signal, times)]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9)


def test_a_constant_signal_stays_constant():
    f = OneEuroFilter()
    value = np.array([[123.25, 45.5], [7.0, 900.0]])
    out = [f(value, t / 25.0, scale=80.0) for t in range(40)]
    np.testing.assert_allclose(np.stack(out), np.broadcast_to(value, (40, 2, 2)), rtol=0, atol=1e-9)


def test_jitter_of_a_still_person_shrinks_and_no_lag_builds_up():
    rng = np.random.default_rng(0)
    truth = rng.uniform(100, 300, (17, 2))
    noisy = truth + rng.normal(0, 2.0, (100, 17, 2))
    f = OneEuroFilter()
    out = np.stack([f(x, t / 25.0, scale=200.0) for t, x in enumerate(noisy)])
    raw_motion = np.linalg.norm(np.diff(noisy, axis=0), axis=-1).mean()
    smooth_motion = np.linalg.norm(np.diff(out, axis=0), axis=-1).mean()
    assert smooth_motion < 0.4 * raw_motion
    assert np.abs(out[20:] - truth).mean() < np.abs(noisy[20:] - truth).mean()


def test_beta_cuts_the_lag_on_a_moving_person():
    """A person moving at a constant 2 body sizes per second: beta > 0 follows closer than beta = 0."""
    times = np.arange(50) / 25.0
    track = 400.0 * times[:, None] * np.ones((1, 2))  # px; scale 200 px
    lags = []
    for beta in (0.0, 1.0):
        f = OneEuroFilter(OneEuroParams(1.0, beta, 1.0))
        out = np.stack([f(x, t, scale=200.0) for x, t in zip(track, times)])
        lags.append(float(np.abs(track[-1] - out[-1]).mean()))
    assert lags[1] < 0.5 * lags[0]


def test_timestamps_or_frame_rate_give_the_same_result_and_set_the_smoothing_per_second():
    x0, x1 = np.array([[10.0, 10.0]]), np.array([[14.0, 10.0]])

    def second(fps: float, timestamps: bool) -> float:
        smoother = TrackSmoother(OneEuroParams(1.0, 0.0, 1.0), fps=fps)
        ts = (0.0, 1.0 / fps) if timestamps else (None, None)
        for x, t in zip((x0, x1), ts):
            out = smoother(_result([x], [1]), t)
        return float(out.keypoints[0, 0, 0])

    for fps in (25.0, 50.0):
        a = 1.0 / (1.0 + 1.0 / (2 * math.pi * 1.0 / fps))
        assert second(fps, True) == pytest.approx(10.0 + 4.0 * a, abs=1e-12)
        assert second(fps, False) == pytest.approx(10.0 + 4.0 * a, abs=1e-12)
    assert second(50.0, True) < second(25.0, True)  # a shorter step moves less of the way


def test_timestamps_must_increase():
    f = OneEuroFilter()
    f(np.zeros(2), 1.0)
    with pytest.raises(PosekitError, match="increase"):
        f(np.ones(2), 1.0)


def test_output_depends_only_on_past_frames_and_state_is_per_track():
    rng = np.random.default_rng(1)
    a = rng.normal(100, 5, (12, 17, 2))
    b = a.copy()
    b[8:] += 50.0  # the future differs
    outs = []
    for seq in (a, b):
        smoother = TrackSmoother(fps=25)
        outs.append([smoother(_result([x], [7])).keypoints[0] for x in seq])
    np.testing.assert_array_equal(np.stack(outs[0][:8]), np.stack(outs[1][:8]))
    # two tracks in one frame do not mix: each equals its own single-track run
    smoother, alone = TrackSmoother(fps=25), TrackSmoother(fps=25)
    for x, y in zip(a, b):
        both = smoother(_result([x, y], [1, 2]))
        np.testing.assert_array_equal(both.keypoints[0], alone(_result([x], [1])).keypoints[0])


def test_a_track_that_ends_drops_its_state():
    smoother = TrackSmoother(fps=25)
    still = np.full((17, 2), 50.0)
    for _ in range(5):
        smoother(_result([still], [3]))
    smoother(_result([], []))  # track 3 is gone
    assert smoother.filters == {}
    back = still + 30.0
    np.testing.assert_array_equal(smoother(_result([back], [3])).keypoints[0], back)  # starts afresh


def test_untracked_results_are_refused():
    with pytest.raises(PosekitError, match="track id"):
        TrackSmoother()(_result([np.zeros((17, 2))], []))


def _result(poses, ids) -> PoseResult:
    n = len(poses)
    kps = np.stack(poses) if n else np.zeros((0, 17, 2))
    k = kps.shape[1]
    return PoseResult(
        boxes=np.tile([0.0, 0.0, 10.0, 10.0], (n, 1)),
        box_scores=np.ones(n),
        keypoints=kps,
        keypoint_scores=np.ones((n, k)),
        scores=np.ones(n),
        ids=list(ids),
    )


def test_a_timestamp_that_does_not_increase_is_taken_as_one_frame_later():
    smoother, reference = TrackSmoother(fps=20), TrackSmoother(fps=20)
    a, b = np.full((17, 2), 10.0), np.full((17, 2), 14.0)
    smoother(_result([a], [1]), 1.0)
    reference(_result([a], [1]), 1.0)
    np.testing.assert_array_equal(
        smoother(_result([b], [1]), 1.0).keypoints, reference(_result([b], [1]), 1.05).keypoints
    )
