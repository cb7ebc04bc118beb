"""`posekit export onnx` / pthtar2onnx.py for every architecture of the zoo: the ONNX file equals PyTorch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
import yaml

from posekit.cli.main import main
from posekit.config import load_config
from posekit.export.jobs import export_checkpoint
from posekit.export.onnx import ExportOptions
from posekit.models.builder import build_pose_model
from posekit.runtime.onnx_backend import OnnxBackend

REPO = Path(__file__).resolve().parents[1]
SMALL = {"DATA_PRESET": {"IMAGE_SIZE": [128, 96], "HEATMAP_SIZE": [32, 24]}}


def _variant(tmp_path: Path, relative: str, model: dict | None = None) -> Path:
    """The AlphaPose config at 128x96 with MODEL keys replaced (tiny widths where the config allows)."""
    data = yaml.safe_load((REPO / "configs" / relative).read_text())
    data["DATA_PRESET"].update(SMALL["DATA_PRESET"])
    data["LOSS"] = {"TYPE": "MSELoss"}
    data["DATA_PRESET"].pop("LOSS_TYPE", None)
    data["MODEL"].update(model or {})
    path = tmp_path / Path(relative).name
    path.write_text(yaml.safe_dump(data))
    return path


def _checkpoint(cfg_path: Path, tmp_path: Path) -> tuple[Path, torch.nn.Module]:
    cfg = load_config(cfg_path)
    torch.manual_seed(0)
    model = build_pose_model(cfg.model, cfg.data_preset).eval()
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    for name, param in model.named_parameters():  # offsets of about a pixel, so DCN really deforms
        if "offset" in name:
            torch.nn.init.normal_(param, std=0.05)
    path = tmp_path / "model.pth"
    torch.save(model.state_dict(), path)
    return path, model


def _check_equal(onnx_path: Path, model: torch.nn.Module, joints: int) -> None:
    batch = np.random.default_rng(0).normal(size=(2, 3, 128, 96)).astype(np.float32)
    with torch.no_grad():
        want = model(torch.from_numpy(batch)).numpy()
    got = OnnxBackend(onnx_path)(batch)
    assert got.shape == (2, joints, 32, 24)
    assert np.abs(got - want).max() < 1e-4 * max(1.0, float(np.abs(want).max()))


HRNET_W8 = {
    "STAGE2": {"NUM_MODULES": 1, "NUM_BRANCHES": 2, "NUM_BLOCKS": [1, 1], "NUM_CHANNELS": [8, 16]},
    "STAGE3": {"NUM_MODULES": 1, "NUM_BRANCHES": 3, "NUM_BLOCKS": [1, 1, 1], "NUM_CHANNELS": [8, 16, 32]},
    "STAGE4": {
        "NUM_MODULES": 2,
        "NUM_BRANCHES": 4,
        "NUM_BLOCKS": [1, 1, 1, 1],
        "NUM_CHANNELS": [8, 16, 32, 64],
    },
}


def test_posekit_export_hrnet(tmp_path, capsys):
    cfg = _variant(
        tmp_path,
        "coco/hrnet/256x192_w32_lr1e-3.yaml",
        {k: dict(v, BLOCK="BASIC", FUSE_METHOD="SUM") for k, v in HRNET_W8.items()},
    )
    ckpt, model = _checkpoint(cfg, tmp_path)
    out = tmp_path / "hrnet.onnx"
    assert (
        main(
            [
                "export",
                "onnx",
                "--cfg",
                str(cfg),
                "--checkpoint",
                str(ckpt),
                "--output",
                str(out),
                "--dynamic-batch",
            ]
        )
        == 0
    )
    assert "max abs difference from PyTorch" in capsys.readouterr().out
    _check_equal(out, model, 17)


def test_pthtar2onnx_exports_fastpose_duc(tmp_path):
    cfg = _variant(
        tmp_path, "coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml", {"NUM_LAYERS": 18, "BACKBONE": "resnet"}
    )
    ckpt, model = _checkpoint(cfg, tmp_path)
    out = tmp_path / "duc.onnx"
    args = [f"--cfg={cfg}", f"--input_pth={ckpt}", f"--output_onnx={out}", "--batch=2"]
    result = subprocess.run(
        [sys.executable, "pthtar2onnx.py", *args], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert [d.dim_value for d in onnx.load(str(out)).graph.input[0].type.tensor_type.shape.dim] == [
        2,
        3,
        128,
        96,
    ]
    _check_equal(out, model, 17)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("relative", "model", "joints"),
    [
        ("coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml", {"DCN": {"MODULATED": True, "DEFORM_GROUP": 2}}, 17),
        ("coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml", {}, 17),  # shuffle: PixelUnshuffle in the graph
        ("coco/resnet/256x192_res50_lr1e-3_1x-simple.yaml", {}, 17),
    ],
)
def test_export_big_architectures(tmp_path, relative, model, joints):
    cfg = _variant(tmp_path, relative, model)
    ckpt, net = _checkpoint(cfg, tmp_path)
    report = export_checkpoint(cfg, ckpt, tmp_path / "m.onnx", ExportOptions(dynamic_batch=True))
    assert report.max_abs_diff is not None
    _check_equal(report.path, net, joints)
