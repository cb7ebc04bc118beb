"""`posekit export om`: the atc command line and an AIPP config that reproduces AlphaPose's normalisation."""

from __future__ import annotations

import re
import shlex

import numpy as np
import pytest

from posekit.cli.main import main
from posekit.export.ascend import aipp_config_text, atc_argv
from posekit.export.onnx import ExportOptions, export_onnx
from posekit.geometry import normalize_crops
from tests.test_export import INPUT_HW, tiny_model

SEED_ATC = (
    "atc --framework=5 --input_format=NCHW --model=fast_res50_256x192_bs1.onnx "
    "--output=fast_res50_256x192_bs1_aipp_rgb --input_shape=input:1,3,256,192 --output_type=FP32 "
    "--soc_version=Ascend310"
)


def parse_aipp(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\s*(\w+)\s*:\s*(\S+)\s*$", text, flags=re.M))


def test_atc_command_is_the_seeds():
    argv = atc_argv("fast_res50_256x192_bs1.onnx", "fast_res50_256x192_bs1_aipp_rgb", (256, 192))
    assert shlex.join(argv) == SEED_ATC


def test_aipp_config_reproduces_alphapose_normalisation():
    fields = parse_aipp(aipp_config_text((256, 192)))
    assert fields["aipp_mode"] == "static" and fields["input_format"] == "RGB888_U8"
    assert (fields["src_image_size_w"], fields["src_image_size_h"]) == ("192", "256")
    assert fields["csc_switch"] == "false" and fields["rbuv_swap_switch"] == "false"
    mean = np.array([int(fields[f"mean_chn_{i}"]) for i in range(3)], dtype=np.float64)
    assert mean.tolist() == [103, 116, 122]
    # AIPP stores min_chn and var_reci_chn as fp16: apply its formula with that rounding.
    low = np.array([float(fields[f"min_chn_{i}"]) for i in range(3)], dtype=np.float16).astype(np.float64)
    var = np.array([float(fields[f"var_reci_chn_{i}"]) for i in range(3)], dtype=np.float16).astype(
        np.float64
    )
    pixels = np.arange(256, dtype=np.uint8)[None, :, None, None].repeat(3, axis=3)  # (1, 256, 1, 3)
    aipp = (pixels.astype(np.float64) - mean - low) * var
    want = normalize_crops(pixels).transpose(0, 2, 3, 1)
    assert np.abs(aipp - want).max() < 2e-5  # fp16 rounding of 1/255 and of the mean fractions


def test_export_om_without_atc_writes_files_and_prints_command(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    onnx_path = tmp_path / "fast_bs1.onnx"
    export_onnx(tiny_model(), onnx_path, INPUT_HW)
    assert main(["export", "om", "--onnx", str(onnx_path), "--soc_version", "Ascend310P3"]) == 0
    out = capsys.readouterr().out
    stem = tmp_path / "fast_bs1_aipp_rgb"
    expected = shlex.join(
        [
            "atc",
            "--framework=5",
            "--input_format=NCHW",
            f"--model={onnx_path}",
            f"--output={stem}",
            "--input_shape=input:1,3,64,48",
            "--output_type=FP32",
            "--soc_version=Ascend310P3",
            f"--insert_op_conf={stem}_aipp.cfg",
        ]
    )
    assert expected in out.splitlines()
    assert (tmp_path / "fast_bs1_aipp_rgb_atc.sh").read_text().splitlines()[-1] == expected
    fields = parse_aipp((tmp_path / "fast_bs1_aipp_rgb_aipp.cfg").read_text())
    assert (fields["src_image_size_w"], fields["src_image_size_h"]) == ("48", "64")


def test_export_om_uses_the_config_and_rejects_a_mismatch(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    onnx_path = tmp_path / "m.onnx"
    export_onnx(tiny_model(), onnx_path, INPUT_HW, ExportOptions(dynamic_batch=True))
    args = [
        "export",
        "om",
        "--onnx",
        str(onnx_path),
        "--batch",
        "8",
        "--no-aipp",
        "--output",
        str(tmp_path / "o"),
    ]
    assert main(args) == 0
    assert "--input_shape=input:8,3,64,48" in capsys.readouterr().out
    assert not (tmp_path / "o_aipp.cfg").exists()
    assert main([*args, "--cfg", "configs/tests/tiny_res18_128x96.yaml"]) == 1
    assert "(64, 48)" in capsys.readouterr().err


def test_export_om_rejects_uint8_model(tmp_path, capsys):
    onnx_path = tmp_path / "u8.onnx"
    export_onnx(tiny_model(), onnx_path, INPUT_HW, ExportOptions(preprocess="nhwc"))
    assert main(["export", "om", "--onnx", str(onnx_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {onnx_path}: input 'input' is uint8") and "without --preprocess" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["u8.onnx"]


@pytest.mark.parametrize("name", ["missing.onnx"])
def test_export_om_missing_onnx(tmp_path, capsys, name):
    assert main(["export", "om", "--onnx", str(tmp_path / name)]) == 1
    assert "not found" in capsys.readouterr().err
