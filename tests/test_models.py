"""FastPose / SE-ResNet: AlphaPose checkpoint compatibility, every depth, ImageNet backbone loading."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from posekit.config import load_config
from posekit.errors import MissingFileError, PosekitError
from posekit.models.builder import build_pose_model
from posekit.models.checkpoint import load_checkpoint, load_imagenet_backbone, load_pose_model

REPO = Path(__file__).resolve().parents[1]
SEED_CFG = REPO / "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml"
TINY_CFG = REPO / "configs/tests/tiny_res18_128x96.yaml"

# (key, shape) pairs from AlphaPose's fast_res50_256x192.pth.
ALPHAPOSE_SHAPES = {
    "preact.conv1.weight": [64, 3, 7, 7],
    "preact.bn1.running_var": [64],
    "preact.layer1.0.conv1.weight": [64, 64, 1, 1],
    "preact.layer1.0.conv3.weight": [256, 64, 1, 1],
    "preact.layer1.0.se.fc.0.weight": [256, 256],
    "preact.layer1.0.se.fc.2.bias": [256],
    "preact.layer1.0.downsample.0.weight": [256, 64, 1, 1],
    "preact.layer1.0.downsample.1.running_mean": [256],
    "preact.layer1.1.conv1.weight": [64, 256, 1, 1],
    "preact.layer2.0.conv1.weight": [128, 256, 1, 1],
    "preact.layer2.0.conv2.weight": [128, 128, 3, 3],
    "preact.layer2.3.bn3.weight": [512],
    "preact.layer3.0.downsample.0.weight": [1024, 512, 1, 1],
    "preact.layer3.5.conv3.weight": [1024, 256, 1, 1],
    "preact.layer4.0.se.fc.0.weight": [2048, 2048],
    "preact.layer4.0.downsample.0.weight": [2048, 1024, 1, 1],
    "preact.layer4.2.bn3.num_batches_tracked": [],
    "duc1.conv.weight": [1024, 512, 3, 3],
    "duc1.bn.weight": [1024],
    "duc2.conv.weight": [512, 256, 3, 3],
    "duc2.bn.running_var": [512],
    "conv_out.weight": [17, 128, 3, 3],
    "conv_out.bias": [17],
}


@pytest.fixture(scope="module")
def res50():
    cfg = load_config(SEED_CFG)
    return cfg, build_pose_model(cfg.model, cfg.data_preset)


def test_res50_state_dict_is_alphaposes(res50):
    _, model = res50
    state = model.state_dict()
    assert len(state) == 348
    assert len([k for k in state if not k.endswith("num_batches_tracked")]) == 293
    assert sum(p.numel() for p in model.parameters()) == 40_577_745
    for key, shape in ALPHAPOSE_SHAPES.items():
        assert list(state[key].shape) == shape, key
    # SE only in block 0 of each layer; no parameters in the PixelShuffle.
    assert not any(".1.se." in k or ".2.se." in k for k in state)
    assert {k.split(".")[0] for k in state} == {"preact", "duc1", "duc2", "conv_out"}


def test_alphapose_checkpoint_loads_strictly(res50, tmp_path):
    cfg, model = res50
    state = {k: torch.randn_like(v.float()).to(v.dtype) for k, v in model.state_dict().items()}
    path = tmp_path / "fast_res50_256x192.pth"
    torch.save(state, path)
    loaded = load_pose_model(cfg, path)
    for key in ("preact.layer3.2.conv2.weight", "duc2.bn.running_mean", "conv_out.bias"):
        assert torch.equal(loaded.state_dict()[key], state[key])
    # Without num_batches_tracked (older files) and with DataParallel prefixes, still strict.
    trimmed = {f"module.{k}": v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    torch.save({"model": trimmed, "epoch": 3}, path)
    assert load_checkpoint(build_pose_model(cfg.model, cfg.data_preset), path) == 293


def test_wrong_shape_names_the_key(tmp_path):
    cfg = load_config(TINY_CFG)
    model = build_pose_model(cfg.model, cfg.data_preset)
    state = model.state_dict()
    state["duc1.conv.weight"] = torch.zeros(3, 3, 3, 3)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(
        PosekitError, match=r"bad\.pth: duc1\.conv\.weight has shape \[3, 3, 3, 3\] in the file"
    ):
        load_checkpoint(model, path)
    del state["duc1.conv.weight"]
    torch.save(state, path)
    with pytest.raises(PosekitError, match=r"missing key duc1\.conv\.weight"):
        load_checkpoint(model, path)
    # Not strict (transfer): every name+shape match loads.
    assert load_checkpoint(model, path, strict=False) == len(state)


def test_joint_count_mismatch_and_missing_file(tmp_path):
    cfg = load_config(TINY_CFG)
    other = load_config(TINY_CFG, {"DATA_PRESET.NUM_JOINTS": 14})
    path = tmp_path / "k14.pth"
    torch.save(build_pose_model(other.model, other.data_preset).state_dict(), path)
    with pytest.raises(
        PosekitError, match=r"checkpoint predicts 14 joints but .* says DATA_PRESET\.NUM_JOINTS 17"
    ):
        load_pose_model(cfg, path)
    with pytest.raises(MissingFileError, match="checkpoint not found"):
        load_pose_model(cfg, tmp_path / "absent.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(PosekitError, match="not a readable PyTorch checkpoint"):
        load_pose_model(cfg, tmp_path / "junk.pth")


@pytest.mark.parametrize("depth", [18, 34, 101])
def test_every_depth_builds_and_runs(depth):
    cfg = load_config(TINY_CFG, {"MODEL.NUM_LAYERS": depth})
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 3, 128, 96))
    assert out.shape == (2, 17, 32, 24)


def test_custom_joint_count():
    cfg = load_config(TINY_CFG, {"DATA_PRESET.NUM_JOINTS": 5})
    out = build_pose_model(cfg.model, cfg.data_preset).eval()(torch.zeros(1, 3, 128, 96))
    assert out.shape == (1, 5, 32, 24)


def _torchvision_resnet18_state(model) -> dict:
    """A state_dict with torchvision's ResNet-18 key names and shapes (no SE, with fc)."""
    state = {
        k: torch.randn_like(v.float()).to(v.dtype)
        for k, v in model.preact.state_dict().items()
        if ".se." not in k
    }
    state["fc.weight"] = torch.randn(1000, 512)
    state["fc.bias"] = torch.randn(1000)
    return state


def test_imagenet_backbone_from_torchvision_file(tmp_path):
    cfg = load_config(TINY_CFG)
    model = build_pose_model(cfg.model, cfg.data_preset)
    state = _torchvision_resnet18_state(model)
    path = tmp_path / "resnet18-f37072fd.pth"
    torch.save(state, path)
    count, used = load_imagenet_backbone(model, 18, path)
    assert used == path and count == len(state) - 2  # every backbone tensor but fc
    assert torch.equal(model.preact.layer2[0].conv1.weight, state["layer2.0.conv1.weight"])


def test_imagenet_backbone_absent_means_random_init(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    cfg = load_config(TINY_CFG)
    assert load_imagenet_backbone(build_pose_model(cfg.model, cfg.data_preset), 18) == (0, None)
