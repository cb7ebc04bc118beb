from pathlib import Path

import pytest

from posekit.config import config_to_dict, load_config
from posekit.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
SEED_CFG = REPO / "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml"


def test_seed_config_loads_with_its_values():
    cfg = load_config(SEED_CFG)
    assert cfg.file_name == "256x192_res50_lr1e-3_1x.yaml"
    assert cfg.data_preset.image_size == (256, 192)
    assert cfg.data_preset.heatmap_size == (64, 48)
    assert cfg.data_preset.sigma == 2.0
    assert cfg.model.type == "FastPose" and cfg.model.num_layers == 50
    assert cfg.train.lr == 0.001 and cfg.train.lr_step == [90, 120] and cfg.train.end_epoch == 200
    assert cfg.dataset.train.aug.rot_factor == 40.0
    assert cfg.dataset.test.det_file == "./exp/json/test_det_yolo.json"
    assert cfg.dataset.val.ann_path == Path("./data/coco/annotations/person_keypoints_val2017.json")


def test_overrides_replace_keys():
    cfg = load_config(SEED_CFG, {"TRAIN.BATCH_SIZE": 2, "TRAIN.END_EPOCH": 3, "MODEL.PRETRAINED": "x.pth"})
    assert (cfg.train.batch_size, cfg.train.end_epoch, cfg.model.pretrained) == (2, 3, "x.pth")


def test_round_trip_through_dict(tmp_path):
    import yaml

    cfg = load_config(SEED_CFG)
    out = tmp_path / "copy.yaml"
    out.write_text(yaml.safe_dump(config_to_dict(cfg)))
    again = load_config(out)
    again.path = cfg.path
    assert again == cfg


def _write(tmp_path, text):
    path = tmp_path / "cfg.yaml"
    path.write_text(text)
    return path


def test_missing_key_names_file_and_key(tmp_path):
    path = _write(tmp_path, "DATASET:\n  TRAIN: {ROOT: a}\n  VAL: {ROOT: a, ANN: b}\n")
    with pytest.raises(ConfigError, match=r"cfg\.yaml: missing key DATASET\.TRAIN\.ANN"):
        load_config(path)


def test_bad_value_names_file_and_key(tmp_path):
    text = SEED_CFG.read_text().replace("BATCH_SIZE: 32", "BATCH_SIZE: many")
    with pytest.raises(ConfigError, match=r"cfg\.yaml: TRAIN\.BATCH_SIZE must be an integer"):
        load_config(_write(tmp_path, text))


def test_wrong_length_image_size(tmp_path):
    text = SEED_CFG.read_text().replace("  - 256\n  - 192\n", "  - 256\n")
    with pytest.raises(ConfigError, match=r"DATA_PRESET\.IMAGE_SIZE must have 2 values"):
        load_config(_write(tmp_path, text))


def test_unknown_keys_warn_but_load(tmp_path):
    text = SEED_CFG.read_text().replace("MODEL:\n", "MODEL:\n  WIDGET: {SIZE: 3}\n")
    with pytest.warns(UserWarning, match=r"unknown key MODEL\.WIDGET"):
        cfg = load_config(_write(tmp_path, text))
    assert cfg.model.num_layers == 50


def test_not_yaml_and_not_found(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_write(tmp_path, "DATASET: [unclosed"))


def test_train_split_without_aug_section_trains_without_scale_rotation_or_half_body(tmp_path):
    """AlphaPose (facts §13, custom.py): no AUG section -> scale factor 0, rotation factor 0, half-body
    (-1, -1); flip is not an AUG key it reads (always on)."""
    text = SEED_CFG.read_text()
    start = text.index("    AUG:")
    end = text.index("  VAL:")
    assert "SCALE_FACTOR" in text[start:end]
    cfg_file = tmp_path / "no_aug.yaml"
    cfg_file.write_text(text[:start] + text[end:])
    aug = load_config(cfg_file).dataset.train.aug
    alphapose = {"scale_factor": 0, "rot_factor": 0, "num_joints_half_body": -1, "prob_half_body": -1}
    assert {k: getattr(aug, k) for k in alphapose} == alphapose and aug.flip is True
    cfg_file.write_text(text[:start] + "    AUG:\n      FLIP: false\n" + text[end:])  # others as the seed
    aug = load_config(cfg_file).dataset.train.aug
    assert (aug.flip, aug.scale_factor, aug.rot_factor) == (False, 0.3, 40.0)
