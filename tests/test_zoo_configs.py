"""AlphaPose's 2D model-zoo configs: each file sits at AlphaPose's path, loads, and builds its network."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch

from posekit.config import load_config
from posekit.errors import ConfigError
from posekit.models.builder import build_pose_model

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml"
HRNET = REPO / "configs/coco/hrnet/256x192_w32_lr1e-3.yaml"

# AlphaPose's configs/ tree (2D), relative path -> (MODEL.TYPE, NUM_JOINTS, DCN, CONV_DIM as given)
ZOO = {
    "coco/hrnet/256x192_w32_lr1e-3.yaml": ("PoseHighResolutionNet", 17, False, None),
    "coco/resnet/256x192_res152_lr1e-3_1x-duc.yaml": ("FastPose_DUC", 17, False, None),
    "coco/resnet/256x192_res18_lr1e-3_1x.yaml": ("FastPose", 17, False, None),
    "coco/resnet/256x192_res50_lr1e-3_1x-concat.yaml": ("FastPose", 33, False, None),
    "coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml": ("FastPose_DUC", 17, False, None),
    "coco/resnet/256x192_res50_lr1e-3_1x-simple.yaml": ("SimplePose", 17, False, None),
    "coco/resnet/256x192_res50_lr1e-3_1x.yaml": ("FastPose", 17, False, None),
    "coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml": ("FastPose", 17, True, None),
    "coco/resnet/256x192_res50_lr1e-3_2x-regression.yaml": ("FastPose", 17, False, None),
    "coco/resnet/256x192_res50_lr1e-3_2x.yaml": ("FastPose", 17, False, None),
    "coco_wholebody/resnet/256x192_res152_lr1e-3_1x-duc.yaml": ("FastPose", 133, False, 256),
    "coco_wholebody/resnet/256x192_res50_lr1e-3_1x.yaml": ("FastPose", 133, False, None),
    "coco_wholebody/resnet/256x192_res50_lr1e-3_2x-combined.yaml": ("FastPose", 133, False, 256),
    "coco_wholebody/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml": ("FastPose", 133, True, 256),
    "coco_wholebody/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml": ("FastPose", 133, True, 256),
    "coco_wholebody/resnet/256x192_res50_lr1e-3_2x-regression.yaml": ("FastPose", 133, False, None),
    "halpe_136/resnet/256x192_res152_lr1e-3_1x-duc.yaml": ("FastPose", 136, False, 256),
    "halpe_136/resnet/256x192_res50_lr1e-3_1x.yaml": ("FastPose", 136, False, None),
    "halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml": ("FastPose", 136, True, 256),
    "halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml": ("FastPose", 136, True, 256),
    "halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn.yaml": ("FastPose", 136, True, 256),
    "halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn_combined.yaml": ("FastPose", 136, True, 256),
    "halpe_136/resnet/256x192_res50_lr1e-3_2x-regression.yaml": ("FastPose", 136, False, 256),
    "halpe_136/resnet/256x192_res50_lr1e-3_2x.yaml": ("FastPose", 136, False, 256),
    "halpe_26/resnet/256x192_res50_lr1e-3_1x.yaml": ("FastPose", 26, False, None),
    "halpe_26/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml": ("FastPose", 26, True, 256),
    "halpe_26/resnet/256x192_res50_lr1e-3_2x-regression.yaml": ("FastPose", 26, False, 256),
    "halpe_26/resnet/256x192_res50_lr1e-3_2x.yaml": ("FastPose", 26, False, None),
    "halpe_68_noface/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml": ("FastPose", 68, True, 256),
    "halpe_coco_wholebody_136/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml": ("FastPose", 136, True, 256),
    "halpe_coco_wholebody_136/resnet/256x192_res50_lr1e-3_2x-regression.yaml": ("FastPose", 136, False, None),
    "single_hand/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml": ("FastPose", 21, True, 256),
}
OURS = {"tests/tiny_res18_128x96.yaml"}


def test_configs_tree_is_alphaposes_2d_tree():
    found = {str(p.relative_to(REPO / "configs")) for p in (REPO / "configs").rglob("*.yaml")}
    assert found == set(ZOO) | OURS


@pytest.mark.parametrize("relative", sorted(ZOO))
def test_every_zoo_config_loads_and_builds(relative):
    kind, joints, dcn, conv_dim = ZOO[relative]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg = load_config(REPO / "configs" / relative)
    unknown_model_keys = [str(w.message) for w in caught if "unknown key MODEL." in str(w.message)]
    assert unknown_model_keys == []  # every MODEL key AlphaPose writes is read
    assert (cfg.model.type, cfg.data_preset.num_joints, cfg.model.dcn is not None) == (kind, joints, dcn)
    assert cfg.model.conv_dim == conv_dim
    assert cfg.data_preset.image_size == (256, 192)
    with torch.device("meta"):
        model = build_pose_model(cfg.model, cfg.data_preset)
    out_key = "final_layer.weight" if kind in ("SimplePose", "PoseHighResolutionNet") else "conv_out.weight"
    assert model.state_dict()[out_key].shape[0] == joints


def test_facts_typed_from_alphapose():
    hrnet = load_config(HRNET).model
    assert (hrnet.final_conv_kernel, hrnet.pretrained_layers) == (1, ["*"])
    assert [hrnet.stage2.num_modules, hrnet.stage3.num_modules, hrnet.stage4.num_modules] == [1, 4, 3]
    assert hrnet.stage4.num_channels == [32, 64, 128, 256] and hrnet.stage4.num_blocks == [4, 4, 4, 4]
    duc = load_config(REPO / "configs/coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml").model
    assert (duc.backbone, duc.stage1.num_conv, duc.stage2.num_conv, duc.stage3.num_conv) == (
        "shuffle",
        4,
        2,
        1,
    )
    dcn = load_config(REPO / "configs/coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml").model
    assert (dcn.dcn.modulated, dcn.dcn.deform_group, dcn.dcn.fallback_on_stride) == (False, 1, False)
    assert dcn.stage_with_dcn == [False, True, True, True]
    concat = load_config(REPO / "configs/coco/resnet/256x192_res50_lr1e-3_1x-concat.yaml").dataset.train
    assert [s.type for s in concat.set_list] == ["Mscoco", "Mpii"] and concat.set_list[
        1
    ].ann == "annot_mpii.json"
    hand = load_config(REPO / "configs/single_hand/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml")
    assert hand.dataset.train.root == ["./data/halpe/", "./data/coco/"]
    assert hand.dataset.train.image_dir == Path("./data/halpe/images/train2015")
    assert (hand.train.world_size, hand.train.end_epoch, hand.train.lr_step) == (6, 100, [15, 35])


def _write_variant(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text()
    assert old in text
    path = tmp_path / "cfg.yaml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "STAGE_WITH_DCN: [false, true, true, true]",
            "STAGE_WITH_DCN: [1, 0]",
            r"MODEL\.STAGE_WITH_DCN must be true or false",
        ),
        (
            "STAGE_WITH_DCN: [false, true, true, true]",
            "STAGE_WITH_DCN: [false, true]",
            r"MODEL\.STAGE_WITH_DCN must be 4",
        ),
        ("DEFORM_GROUP: 1", "DEFORM_GROUP: 0", r"MODEL\.DCN\.DEFORM_GROUP must be an integer >= 1, got 0"),
        ("MODULATED: false", "MODULATED: maybe", r"MODEL\.DCN\.MODULATED must be true or false"),
        (
            "NUM_LAYERS: 50",
            "NUM_LAYERS: 42",
            r"MODEL\.NUM_LAYERS must be one of \[18, 34, 50, 101, 152\], got 42",
        ),
        (
            "TYPE: FastPose\n",
            "TYPE: FastPose\n  CONV_DIM: 0\n",
            r"MODEL\.CONV_DIM must be an integer >= 1, got 0",
        ),
    ],
)
def test_bad_model_keys_are_named(tmp_path, old, new, message):
    path = _write_variant(tmp_path, REPO / "configs/coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml", old, new)
    with pytest.raises(ConfigError, match=r"cfg\.yaml: " + message):
        load_config(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "NUM_CHANNELS: [32, 64, 128]",
            "NUM_CHANNELS: [32, 64]",
            r"MODEL\.STAGE3\.NUM_CHANNELS must be 3 integers",
        ),
        (
            "NUM_BRANCHES: 3",
            "NUM_BRANCHES: 2",
            r"MODEL\.STAGE3\.NUM_BRANCHES must be more than the previous stage's 2",
        ),
        ("BLOCK: BASIC", "BLOCK: FANCY", r"MODEL\.STAGE2\.BLOCK must be one of \['BASIC', 'BOTTLENECK'\]"),
        ("FINAL_CONV_KERNEL: 1", "FINAL_CONV_KERNEL: 5", r"MODEL\.FINAL_CONV_KERNEL must be 1 or 3, got 5"),
        ("  STAGE4:\n", "  STAGE9:\n", r"MODEL\.STAGE4 must be given"),
    ],
)
def test_bad_hrnet_keys_are_named(tmp_path, old, new, message):
    path = _write_variant(tmp_path, HRNET, old, new)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ConfigError, match=r"cfg\.yaml: " + message):
            load_config(path)


def test_duc_without_stage_and_unknown_type_are_named(tmp_path):
    duc = REPO / "configs/coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml"
    path = _write_variant(tmp_path, duc, "  STAGE2:\n    NUM_CONV: 2\n", "")
    with pytest.raises(ConfigError, match=r"MODEL\.STAGE2 must be given \(NUM_CONV\) for FastPose_DUC"):
        load_config(path)
    cfg = load_config(_write_variant(tmp_path, SEED, "TYPE: 'FastPose'", "TYPE: 'HardNet'"))
    with pytest.raises(ConfigError, match=r"MODEL\.TYPE 'HardNet' is not supported; choose one of"):
        build_pose_model(cfg.model, cfg.data_preset)
