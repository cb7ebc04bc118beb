"""FastPose / SE-ResNet: AlphaPose checkpoint compatibility, every depth, ImageNet backbone loading."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from posekit.config import load_config
from posekit.errors import MissingFileError, PosekitError
from posekit.models.builder import build_pose_model
from posekit.models.checkpoint import load_checkpoint, load_imagenet_backbone, load_pose_network

REPO = Path(__file__).resolve().parents[1]
SEED_CFG = REPO / "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml"
TINY_CFG = REPO / "configs/tests/tiny_res18_128x96.yaml"

BN_TENSORS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
BUFFERS = ("running_mean", "running_var", "num_batches_tracked")


def alphapose_res50_state_shapes(num_joints: int = 17) -> dict[str, list[int]]:
    """AlphaPose's fast_res50_256x192.pth state_dict names and shapes, written from the facts (section 1.3),
    not from posekit's model code."""
    shapes: dict[str, list[int]] = {}

    def batchnorm(prefix: str, channels: int) -> None:
        for name in BN_TENSORS:
            shapes[f"{prefix}.{name}"] = [] if name == "num_batches_tracked" else [channels]

    shapes["preact.conv1.weight"] = [64, 3, 7, 7]
    batchnorm("preact.bn1", 64)
    block_in = 64  # Cin(L, 0) = 64, 256, 512, 1024
    for layer, (planes, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)], start=1):
        out = 4 * planes
        for b in range(blocks):
            prefix = f"preact.layer{layer}.{b}"
            cin = block_in if b == 0 else out
            shapes[f"{prefix}.conv1.weight"] = [planes, cin, 1, 1]
            batchnorm(f"{prefix}.bn1", planes)
            shapes[f"{prefix}.conv2.weight"] = [planes, planes, 3, 3]
            batchnorm(f"{prefix}.bn2", planes)
            shapes[f"{prefix}.conv3.weight"] = [out, planes, 1, 1]
            batchnorm(f"{prefix}.bn3", out)
            if b == 0:  # SE (Linear, ReLU, Linear, Sigmoid) and the downsample, in block 0 only
                for index in (0, 2):
                    shapes[f"{prefix}.se.fc.{index}.weight"] = [out, out]
                    shapes[f"{prefix}.se.fc.{index}.bias"] = [out]
                shapes[f"{prefix}.downsample.0.weight"] = [out, cin, 1, 1]
                batchnorm(f"{prefix}.downsample.1", out)
        block_in = out
    shapes["duc1.conv.weight"] = [1024, 512, 3, 3]
    batchnorm("duc1.bn", 1024)
    shapes["duc2.conv.weight"] = [512, 256, 3, 3]
    batchnorm("duc2.bn", 512)
    shapes["conv_out.weight"] = [num_joints, 128, 3, 3]
    shapes["conv_out.bias"] = [num_joints]
    return shapes


@pytest.fixture(scope="module")
def res50():
    cfg = load_config(SEED_CFG)
    return cfg, build_pose_model(cfg.model, cfg.data_preset)


def test_expected_alphapose_list_matches_the_facts():
    expected = alphapose_res50_state_shapes()
    assert len(expected) == 348
    assert len([k for k in expected if not k.endswith("num_batches_tracked")]) == 293
    assert len([k for k in expected if k.endswith("num_batches_tracked")]) == 55  # BN layers
    params = [shape for key, shape in expected.items() if not key.endswith(BUFFERS)]
    assert sum(math.prod(shape) for shape in params) == 40_577_745


def test_res50_state_dict_is_alphaposes(res50):
    _, model = res50
    state = {key: list(value.shape) for key, value in model.state_dict().items()}
    assert state == alphapose_res50_state_shapes()
    expected_params = {k for k in alphapose_res50_state_shapes() if not k.endswith(BUFFERS)}
    assert {name for name, _ in model.named_parameters()} == expected_params
    assert sum(p.numel() for p in model.parameters()) == 40_577_745


def test_alphapose_checkpoint_loads_strictly(res50, tmp_path):
    cfg, _ = res50
    state = {  # a file with AlphaPose's names and shapes, made without posekit's model
        key: torch.tensor(7) if key.endswith("num_batches_tracked") else torch.randn(shape)
        for key, shape in alphapose_res50_state_shapes().items()
    }
    path = tmp_path / "fast_res50_256x192.pth"
    torch.save(state, path)
    loaded = load_pose_network(cfg, path)
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
        load_pose_network(cfg, path)
    with pytest.raises(MissingFileError, match="checkpoint not found"):
        load_pose_network(cfg, tmp_path / "absent.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(PosekitError, match="not a readable PyTorch checkpoint"):
        load_pose_network(cfg, tmp_path / "junk.pth")


@pytest.mark.parametrize("depth", [18, 34, 101])
def test_every_depth_builds_and_runs(depth):
    cfg = load_config(TINY_CFG, {"MODEL.NUM_LAYERS": depth})
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    with torch.no_grad():
        out = model(torch.zeros(2, 3, 128, 96))
    assert out.shape == (2, 17, 32, 24)


def test_depth_152_builds():
    cfg = load_config(SEED_CFG, {"MODEL.NUM_LAYERS": 152})
    state = build_pose_model(cfg.model, cfg.data_preset).state_dict()
    # ResNet-152: (3, 8, 36, 3) bottleneck blocks, SE and downsample in block 0 of each layer.
    for layer, blocks in enumerate((3, 8, 36, 3), start=1):
        assert f"preact.layer{layer}.{blocks - 1}.conv3.weight" in state
        assert f"preact.layer{layer}.{blocks}.conv1.weight" not in state
    assert list(state["preact.layer3.35.conv3.weight"].shape) == [1024, 256, 1, 1]
    assert len([k for k in state if k.endswith("se.fc.0.weight")]) == 4
    assert list(state["conv_out.weight"].shape) == [17, 128, 3, 3]


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
