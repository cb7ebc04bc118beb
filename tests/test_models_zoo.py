"""Every architecture of the model zoo has AlphaPose's state_dict layout, loads it strictly, and makes
heatmaps of the right shape (layouts from tests/zoo_layouts.py, written from the facts)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pytest
import torch

from posekit.config import load_config
from posekit.errors import PosekitError
from posekit.models.builder import build_pose_model
from posekit.models.checkpoint import load_pose_network
from tests import zoo_layouts as layouts

REPO = Path(__file__).resolve().parents[1]
CFG = REPO / "configs"
ALL4 = (False, True, True, True)


def _cfg(relative: str, overrides: dict | None = None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LOSS keys this test does not read
        return load_config(CFG / relative, overrides)


def _meta_shapes(cfg) -> dict[str, list[int]]:
    with torch.device("meta"):
        model = build_pose_model(cfg.model, cfg.data_preset)
    return {k: list(v.shape) for k, v in model.state_dict().items()}


CASES = {
    "coco/resnet/256x192_res18_lr1e-3_1x.yaml": lambda: layouts.fastpose(18),
    "coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml": lambda: layouts.fastpose(50, dcn_stages=ALL4),
    "coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml": lambda: layouts.fastpose_duc(50, "shuffle"),
    "coco/resnet/256x192_res152_lr1e-3_1x-duc.yaml": lambda: layouts.fastpose_duc(152, "se"),
    "coco/resnet/256x192_res50_lr1e-3_1x-simple.yaml": lambda: layouts.simplepose(50),
    "coco/hrnet/256x192_w32_lr1e-3.yaml": lambda: layouts.hrnet(32),
    "halpe_136/resnet/256x192_res50_lr1e-3_2x-regression.yaml": lambda: layouts.fastpose(50, 136, 256),
    "halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml": lambda: layouts.fastpose(
        50, 136, 256, ALL4
    ),
    "halpe_136/resnet/256x192_res152_lr1e-3_1x-duc.yaml": lambda: layouts.fastpose(152, 136, 256),
    "halpe_26/resnet/256x192_res50_lr1e-3_2x.yaml": lambda: layouts.fastpose(50, 26),
}


@pytest.mark.parametrize("relative", sorted(CASES))
def test_state_dict_is_alphaposes(relative):
    assert _meta_shapes(_cfg(relative)) == CASES[relative]()


def test_layout_facts_counts():
    """Counts that pin the layouts themselves (HRNet-W32 256x192: 28.54M parameters, as published)."""

    def params(shapes):
        return sum(
            math.prod(s)
            for k, s in shapes.items()
            if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))
        )

    assert len(layouts.fastpose(50)) == 348 and params(layouts.fastpose(50)) == 40_577_745
    dcn = layouts.fastpose(50, dcn_stages=ALL4)
    assert (
        len([k for k in dcn if k.endswith("conv2_offset.weight")]) == 4 + 6 + 3
    )  # every block of layers 2-4
    assert dcn["preact.layer3.5.conv2_offset.weight"] == [18, 256, 3, 3]
    assert params(layouts.hrnet(32)) == 28_536_113
    duc = layouts.fastpose_duc(50, "shuffle")
    assert duc["preact.layer2.0.conv2.1.weight"] == [128, 512, 3, 3]  # PixelUnshuffle(2), then 4x channels
    assert duc["duc1.10.weight"] == [1024, 512, 3, 3] and duc["duc3.1.weight"] == [256, 128, 3, 3]


def test_dcn_variants_layouts():
    """MODULATED: 27 offset channels; plain ResNet: DCN in block 0 only; shuffle: AlphaPose's DCN module."""
    cfg = _cfg("coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml", {"MODEL.DCN.MODULATED": True})
    assert _meta_shapes(cfg) == layouts.fastpose(50, dcn_stages=ALL4) | {
        k: [27, *v[1:]]
        for k, v in layouts.fastpose(50, dcn_stages=ALL4).items()
        if "conv2_offset.weight" in k
    } | {k: [27] for k in layouts.fastpose(50, dcn_stages=ALL4) if "conv2_offset.bias" in k}
    fallback = _cfg("coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml", {"MODEL.DCN.FALLBACK_ON_STRIDE": True})
    assert _meta_shapes(fallback) == layouts.fastpose(50)
    overrides = {"MODEL.DCN": {"MODULATED": False}, "MODEL.STAGE_WITH_DCN": list(ALL4)}
    for backbone, variant in (("resnet", "plain"), ("shuffle", "shuffle")):
        cfg = _cfg("coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml", {**overrides, "MODEL.BACKBONE": backbone})
        head = {k: v for k, v in layouts.fastpose_duc(50, "shuffle").items() if not k.startswith("preact.")}
        assert _meta_shapes(cfg) == layouts.resnet(50, variant, ALL4) | head


def _random_state(shapes: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            state[key] = torch.tensor(5)
        elif key.endswith("running_var"):
            state[key] = torch.rand(shape, generator=generator) + 0.5
        else:
            state[key] = torch.randn(shape, generator=generator) * 0.05
    return state


@pytest.mark.parametrize(
    ("relative", "joints"),
    [
        ("coco/resnet/256x192_res18_lr1e-3_1x.yaml", 17),
        ("coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml", 17),
        ("coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml", 17),
        ("coco/resnet/256x192_res50_lr1e-3_1x-simple.yaml", 17),
        ("coco/hrnet/256x192_w32_lr1e-3.yaml", 17),
    ],
)
def test_alphapose_layout_file_loads_strictly_and_runs(tmp_path, relative, joints):
    cfg = _cfg(relative)
    state = _random_state(CASES[relative]())
    path = tmp_path / "alphapose.pth"
    torch.save(state, path)
    model = load_pose_network(cfg, path)
    for key in list(state)[:: max(1, len(state) // 7)]:
        assert torch.equal(model.state_dict()[key], state[key]), key
    with torch.no_grad():
        out = model(torch.randn(2, 3, 128, 96, generator=torch.Generator().manual_seed(1)))
    assert out.shape == (2, joints, 32, 24) and torch.isfinite(out).all()


@pytest.mark.slow
def test_res152_duc_file_loads_strictly(tmp_path):
    relative = "coco/resnet/256x192_res152_lr1e-3_1x-duc.yaml"
    path = tmp_path / "fast_421_res152_256x192.pth"
    torch.save(_random_state(CASES[relative]()), path)
    model = load_pose_network(_cfg(relative), path)
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 256, 192)).shape == (1, 17, 64, 48)


def test_wrong_architecture_file_names_the_key(tmp_path):
    path = tmp_path / "simple.pth"
    torch.save(_random_state(layouts.simplepose(50)), path)
    with pytest.raises(PosekitError, match=r"simple\.pth: missing key preact\.layer1\.0\.se\.fc\.0\.weight"):
        load_pose_network(_cfg("coco/resnet/256x192_res50_lr1e-3_1x.yaml"), path)
    hr = layouts.hrnet(32, joints=26)
    torch.save(_random_state(hr), path)
    with pytest.raises(
        PosekitError, match=r"checkpoint predicts 26 joints but .* says DATA_PRESET\.NUM_JOINTS 17"
    ):
        load_pose_network(_cfg("coco/hrnet/256x192_w32_lr1e-3.yaml"), path)


def test_hrnet_any_width_and_final_kernel():
    cfg = _cfg(
        "coco/hrnet/256x192_w32_lr1e-3.yaml",
        {
            "MODEL.STAGE2.NUM_CHANNELS": [8, 16],
            "MODEL.STAGE3.NUM_CHANNELS": [8, 16, 32],
            "MODEL.STAGE4.NUM_CHANNELS": [8, 16, 32, 64],
            "MODEL.FINAL_CONV_KERNEL": 3,
        },
    )
    assert _meta_shapes(cfg) == layouts.hrnet(8, final_kernel=3)
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 3, 128, 96)).shape == (1, 17, 32, 24)
