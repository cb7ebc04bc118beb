"""The export jobs `posekit export onnx|om` and the UI's Export tab both run (no printing here)."""

from __future__ import annotations

from pathlib import Path

from posekit.errors import PosekitError
from posekit.export import DEFAULT_SOC_VERSION
from posekit.export.ascend import AtcPlan, write_atc_files
from posekit.export.onnx import ExportOptions, ExportReport
from posekit.paths import check_apart


def export_checkpoint(
    cfg_path: str | Path,
    checkpoint: str | Path,
    output: str | Path,
    options: ExportOptions,
    check_image: str | Path | None = None,
) -> ExportReport:
    """Load the config and the checkpoint (a mismatch fails here, before any file is written), then
    export the pose model to ONNX and check it against PyTorch. An output that is one of the inputs is
    refused first."""
    from posekit.config import load_config
    from posekit.export.onnx import export_onnx
    from posekit.models.checkpoint import load_pose_network

    check_apart([p for p in (cfg_path, checkpoint, check_image) if p], files=[output])
    cfg = load_config(cfg_path)
    model = load_pose_network(cfg, checkpoint, device="cpu")
    return export_onnx(model, output, cfg.data_preset.image_size, options, check_image)


def plan_om(
    onnx_path: str | Path,
    cfg_path: str | Path | None = None,
    output: str | Path | None = None,
    batch: int | None = None,
    soc_version: str = DEFAULT_SOC_VERSION,
    aipp: bool = True,
) -> AtcPlan:
    """Write the AIPP config and the atc script for an exported ONNX file (input size from the file,
    checked against the config's IMAGE_SIZE when given); default OM path `<onnx stem>_aipp_rgb`."""
    from posekit.export.inspect import onnx_input_info

    info = onnx_input_info(onnx_path)
    input_hw = info.input_hw
    if cfg_path:
        from posekit.config import load_config

        expected = tuple(load_config(cfg_path).data_preset.image_size)
        if input_hw != expected:
            raise PosekitError(f"{onnx_path}: input is {input_hw} (H, W) but {cfg_path} says {expected}")
    stem = f"{info.path.stem}_aipp_rgb" if aipp else info.path.stem
    return write_atc_files(
        info.path,
        output or info.path.with_name(stem),
        input_hw,
        batch or info.batch or 1,
        soc_version,
        aipp=aipp,
        input_name=info.name,
    )
