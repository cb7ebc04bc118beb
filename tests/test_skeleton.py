import numpy as np
from pycocotools.cocoeval import Params

from posekit import skeleton


def test_names_in_coco_order_and_flip_pairs_from_names():
    assert skeleton.KEYPOINT_NAMES[0] == "nose"
    assert skeleton.KEYPOINT_NAMES[-1] == "right_ankle"
    assert skeleton.NUM_KEYPOINTS == 17
    # AlphaPose's joint pairs for COCO-17.
    assert skeleton.FLIP_PAIRS == [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]


def test_flip_pairs_for_custom_names():
    names = ("head", "left_hand", "right_hand", "left_foot", "right_foot", "tail")
    assert skeleton.flip_pairs(names) == [(1, 2), (3, 4)]


def test_limbs_are_the_coco_skeleton_zero_based():
    assert len(skeleton.LIMBS) == 19
    assert skeleton.LIMBS[0] == (15, 13)
    assert all(0 <= a < 17 and 0 <= b < 17 for a, b in skeleton.LIMBS)


def test_oks_sigmas_equal_pycocotools():
    np.testing.assert_array_equal(skeleton.OKS_SIGMAS, Params(iouType="keypoints").kpt_oks_sigmas)


def test_render_tables_have_matching_lengths():
    assert len(skeleton.POINT_COLORS_BGR) == 18
    assert len(skeleton.LIMB_COLORS_BGR) == len(skeleton.RENDER_LIMBS) == 15
