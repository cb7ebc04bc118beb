"""Decoding by LOSS.TYPE on hand-made maps, each value worked out by hand (AlphaPose's formulas)."""

import math

import numpy as np
import pytest

from posekit.config import config_from_dict
from posekit.errors import ConfigError
from posekit.pose.decode import Decoder, decoder_for_config
from posekit.pose.estimator import TopDownEstimator
from posekit.skeleton import HALPE_26

BOX = np.array([[10.0, 20.0, 40.0, 60.0]])  # crop box 30 x 40 over a 3-wide, 2-high map: 10 px, 20 px


def test_integral_softmax():
    # logits 0 except ln 3 at (x=2, y=1): probabilities 1/8 x5 and 3/8.
    maps = np.zeros((1, 1, 2, 3), np.float32)
    maps[0, 0, 1, 2] = math.log(3)
    xy, scores = Decoder("L1JointRegression", "softmax")(maps, BOX)
    # columns 2/8, 2/8, 4/8 -> x = 10/8; rows 3/8, 5/8 -> y = 5/8; softmax scores are 1.
    np.testing.assert_allclose(xy[0, 0], [10 + 1.25 * 10, 20 + 0.625 * 20], rtol=1e-6)
    assert scores.tolist() == [[1.0]]


def test_integral_sigmoid_scores_are_the_largest_sigmoid():
    maps = np.zeros((1, 1, 2, 3), np.float32)
    maps[0, 0, 0, 0] = math.log(9)  # sigmoid 0.9; the rest 0.5, sum 3.4
    xy, scores = Decoder("L1JointRegression", "sigmoid")(maps, BOX)
    # columns 1.4, 1, 1 (/3.4) -> x = 3 / 3.4; rows 1.9, 1.5 (/3.4) -> y = 1.5 / 3.4
    np.testing.assert_allclose(xy[0, 0], [10 + 3 / 3.4 * 10, 20 + 1.5 / 3.4 * 20], rtol=1e-6)
    np.testing.assert_allclose(scores, [[0.9]], rtol=1e-6)


def test_integral_divide_sum():
    maps = np.array([[[[1, 2, 3], [0, 0, 2]]]], np.float32)  # sum 8
    xy, scores = Decoder("L1JointRegression", "divide_sum")(maps, BOX)
    np.testing.assert_allclose(xy[0, 0], [10 + 1.5 * 10, 20 + 0.25 * 20], rtol=1e-6)
    assert scores.tolist() == [[1.0]]


@pytest.mark.parametrize(("joints", "split"), [(68, 26), (136, 26), (133, 23)])
def test_combined_heatmaps_for_body_integral_for_face_and_hands(joints, split):
    maps = np.zeros((1, joints, 8, 8), np.float32)
    maps[0, 0, 3, 4] = 0.7  # body peak at (4, 3): right 0.2 > left 0.1, down 0.3 > up 0.1
    maps[0, 0, 3, 5], maps[0, 0, 3, 3], maps[0, 0, 4, 4], maps[0, 0, 2, 4] = 0.2, 0.1, 0.3, 0.1
    box = np.array([[0.0, 0.0, 16.0, 16.0]])  # 2 px per map pixel
    xy, scores = Decoder("Combined", "softmax")(maps, box)
    np.testing.assert_allclose(xy[0, 0], [2 * 4.25, 2 * 3.25])
    assert scores[0, 0] == pytest.approx(0.7)
    # empty heatmaps: zero peak -> (0, 0) and score 0; flat regression maps -> the centre 3.5, score 1
    np.testing.assert_allclose(xy[0, 1:split], 0.0)
    np.testing.assert_allclose(scores[0, 1:split], 0.0)
    np.testing.assert_allclose(xy[0, split:], 7.0)
    np.testing.assert_allclose(scores[0, split:], 1.0)


class _Constant:
    """A backend that returns the same maps for any crop (mirrored or not)."""

    def __init__(self, maps):
        self.maps = maps

    def __call__(self, batch):
        return np.repeat(self.maps, len(batch), axis=0)


def test_flip_test_averages_maps_then_integrates():
    # one joint, one row [0, ln3, 0, 0]; mirrored and shifted: [0, 0, 0, ln3]; mean [0, ln3/2, 0, ln3/2]
    maps = np.array([[[[0.0, math.log(3), 0.0, 0.0]]]], np.float32)
    est = TopDownEstimator(
        _Constant(maps),
        (4, 16),
        (1, 4),
        num_joints=1,
        flip=True,
        flip_pairs=(),
        loss_type="L1JointRegression",
    )
    averaged = est.heatmaps(np.zeros((1, 3, 4, 16), np.float32))
    np.testing.assert_allclose(averaged[0, 0, 0], [0, math.log(3) / 2, 0, math.log(3) / 2], rtol=1e-6)
    xy, _ = est.decoder(averaged, np.array([[0.0, 0.0, 4.0, 1.0]]))
    r3 = math.sqrt(3)
    assert xy[0, 0, 0] == pytest.approx((r3 + 2 + 3 * r3) / (2 + 2 * r3), rel=1e-6)


def test_flip_test_swaps_the_sets_pairs_for_combined():
    # Halpe-68 layout: joint 20 (left big toe) <-> 21; 26 (left hand root) <-> 47 (right hand root).
    maps = np.zeros((1, 68, 4, 4), np.float32)
    maps[0, 20, 1, 1] = 1.0
    maps[0, 26, 2, 1] = 5.0
    split = {"ROOT": "x", "ANN": "a.json", "TYPE": "Halpe_68_noface"}
    cfg = config_from_dict(
        {
            "DATASET": {"TRAIN": split, "VAL": split},
            "DATA_PRESET": {"NUM_JOINTS": 68, "IMAGE_SIZE": [16, 16], "HEATMAP_SIZE": [4, 4]},
            "LOSS": {"TYPE": "Combined", "NORM_TYPE": "sigmoid"},
        }
    )
    est = TopDownEstimator.for_config(_Constant(maps), cfg, flip=True)
    assert (20, 21) in est.flip_pairs and (26, 47) in est.flip_pairs
    averaged = est.heatmaps(np.zeros((1, 3, 16, 16), np.float32))
    # joint 21 gets joint 20's peak mirrored (x 1 -> 2) and shifted (-> 3), at half weight
    assert averaged[0, 21, 1, 3] == 0.5 and averaged[0, 20, 1, 1] == 0.5
    assert averaged[0, 47, 2, 3] == 2.5 and averaged[0, 26, 2, 1] == 2.5
    assert est.decoder == Decoder("Combined", "sigmoid")


def test_decoder_for_config_and_unknown_types():
    split = {"ROOT": "x", "ANN": "a.json"}
    cfg = config_from_dict({"DATASET": {"TRAIN": split, "VAL": split}, "LOSS": {"TYPE": "L1JointRegression"}})
    assert decoder_for_config(cfg) == Decoder("L1JointRegression", "softmax")
    with pytest.raises(ConfigError, match=r"LOSS\.TYPE"):
        config_from_dict({"DATASET": {"TRAIN": split, "VAL": split}, "LOSS": {"TYPE": "KLLoss"}})
    with pytest.raises(ConfigError, match=r"LOSS\.NORM_TYPE"):
        config_from_dict({"DATASET": {"TRAIN": split, "VAL": split}, "LOSS": {"NORM_TYPE": "tanh"}})
    assert HALPE_26.num_joints == 26
