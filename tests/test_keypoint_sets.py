"""Keypoint sets as data: AlphaPose's flip pairs, drawing tables and OKS sigmas, and the lookups."""

import numpy as np
import pytest
from pycocotools.cocoeval import Params

from posekit import skeleton
from posekit.config import config_from_dict
from posekit.skeleton import KEYPOINT_SETS, keypoint_set, set_for_config, set_for_joints


def test_every_set_has_consistent_tables():
    for s in KEYPOINT_SETS.values():
        k = s.num_joints
        assert len(s.sigmas) == k and len(set(s.names)) == k
        drawn = k + (1 if s.neck else 0)
        assert all(0 <= a < drawn and 0 <= b < drawn for a, b in s.render_limbs)
        assert len(s.limb_colors) <= len(s.render_limbs) and len(s.point_colors) <= drawn
        swapped = [i for pair in s.flip_pairs for i in pair]
        assert len(swapped) == len(set(swapped))  # each joint in at most one pair


def test_joint_counts_and_lookups():
    counts = {name: s.num_joints for name, s in KEYPOINT_SETS.items()}
    assert counts == {
        "coco": 17, "halpe_26": 26, "halpe_136": 136, "coco_wholebody": 133, "halpe_68_noface": 68,
        "single_hand": 21,
    }  # fmt: skip
    for s in KEYPOINT_SETS.values():
        assert set_for_joints(s.num_joints) is s and keypoint_set(s.name) is s
    assert keypoint_set("Halpe_136_det") is skeleton.HALPE_136
    assert keypoint_set("SingleHand") is skeleton.HAND_21
    with pytest.raises(KeyError, match="unknown keypoint set"):
        keypoint_set("mpii")


def test_set_for_config_reads_dataset_type_and_joint_count():
    split = {"ROOT": "x", "ANN": "a.json", "TYPE": "coco_wholebody"}
    cfg = config_from_dict({"DATASET": {"TRAIN": split, "VAL": split}, "DATA_PRESET": {"NUM_JOINTS": 133}})
    assert set_for_config(cfg) is skeleton.COCO_WHOLEBODY_133
    split = {"ROOT": "x", "ANN": "a.json", "TYPE": "Mscoco"}
    cfg = config_from_dict({"DATASET": {"TRAIN": split, "VAL": split}, "DATA_PRESET": {"NUM_JOINTS": 26}})
    assert set_for_config(cfg) is skeleton.HALPE_26
    custom = set_for_joints(5, ["nose", "left_eye", "right_eye", "left_ear", "right_ear"])
    assert custom.flip_pairs == ((1, 2), (3, 4)) and custom.limbs == ()


def test_coco17_constants_unchanged_and_set_equal():
    coco = skeleton.COCO_17
    assert coco.names == skeleton.KEYPOINT_NAMES and list(coco.flip_pairs) == skeleton.FLIP_PAIRS
    np.testing.assert_array_equal(coco.oks_sigmas, Params(iouType="keypoints").kpt_oks_sigmas)
    assert coco.neck and list(coco.render_limbs) == skeleton.RENDER_LIMBS


def test_halpe_flip_pairs_swap_left_and_right_names():
    for s in (skeleton.HALPE_26, skeleton.HALPE_68, skeleton.HALPE_136, skeleton.COCO_WHOLEBODY_133):
        for a, b in s.flip_pairs:
            na, nb = s.names[a], s.names[b]
            if na.startswith(("left", "right")):
                assert na.replace("left", "X").replace("right", "left").replace("X", "right") == nb
    # AlphaPose's face pairs (halpe_136.py): jaw 26 <-> 42, and COCO-WholeBody's are 3 lower.
    assert (26, 42) in skeleton.HALPE_136.flip_pairs and (23, 39) in skeleton.COCO_WHOLEBODY_133.flip_pairs
    assert skeleton.COCO_WHOLEBODY_133.flip_pairs[8:11] == ((17, 20), (18, 21), (19, 22))
    assert skeleton.HALPE_68.flip_pairs[-1] == (46, 67) and skeleton.HAND_21.flip_pairs == ()


def test_halpe_drawing_is_alphapose_vis():
    h26, h136 = skeleton.HALPE_26, skeleton.HALPE_136
    assert h26.render_limbs[4:6] == ((5, 18), (6, 18)) and len(h26.render_limbs) == 24
    assert len(h26.point_colors) == 26 and len(h26.limb_colors) == 24
    # vis.py's 136 list: 24 body/foot limbs, 60 face limbs, 20 per hand.
    assert len(h136.render_limbs) == 24 + 60 + 40
    assert h136.render_limbs[24] == (26, 27) and h136.render_limbs[83] == (92, 93)
    assert h136.render_limbs[84:88] == ((94, 95), (95, 96), (96, 97), (97, 98))
    assert h136.render_limbs[88] == (94, 99)


def test_sigmas_are_alphapose_oks_iou_tables():
    np.testing.assert_allclose(skeleton.HALPE_26.oks_sigmas[17:20], [0.08, 0.08, 0.08])
    np.testing.assert_allclose(skeleton.HALPE_136.oks_sigmas[26:], 0.025)
    wb = skeleton.COCO_WHOLEBODY_133.oks_sigmas
    assert wb[17] == 0.068 and wb[23] == 0.042 and wb[90] == 0.008 and wb[91] == 0.029 and wb[132] == 0.031
