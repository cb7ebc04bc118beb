"""Ascend deployment files: the atc command that turns the ONNX file into an OM model, and its AIPP config.

AIPP (the Ascend AI pre-processing unit) normalises each pixel as
``out = (in - mean_chn_i - min_chn_i) * var_reci_chn_i``, where mean_chn_i is an integer (uint8) and
min_chn_i / var_reci_chn_i are fp16. AlphaPose's input is ``rgb / 255 - mean`` with mean
(0.406, 0.457, 0.480), i.e. ``(rgb - 255 * mean) / 255``: the integer part of 255 * mean goes into
mean_chn_i, the fractional rest into min_chn_i (more exact in fp16 than putting all of 103.53 there), and
var_reci_chn_i = 1/255. With that file the OM model takes uint8 RGB HWC crops straight from the camera.
"""

from __future__ import annotations

import math
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from posekit.errors import PosekitError
from posekit.export import DEFAULT_SOC_VERSION
from posekit.geometry import PIXEL_MEAN_RGB
from posekit.io.atomic import atomic_write_text


@dataclass(frozen=True)
class AtcPlan:
    """What `posekit export om` writes and runs: the atc argument list, the AIPP file and a script."""

    argv: list[str]
    om_path: Path
    aipp_path: Path | None
    script_path: Path

    @property
    def command(self) -> str:
        """The atc command as one shell line."""
        return shlex.join(self.argv)


def aipp_config_text(input_hw: tuple[int, int], mean_rgb=PIXEL_MEAN_RGB) -> str:
    """Static AIPP config for uint8 RGB888 input of size input_hw (H, W), normalised as rgb/255 - mean
    (AlphaPose's mean by default; mean 0 gives rgb/255, the YOLO-pose input)."""
    height, width = (int(v) for v in input_hw)
    lines = [
        "# posekit: uint8 RGB (HWC) images in, normalisation rgb/255 - mean done by AIPP,",
        f"# mean (RGB) = {tuple(float(m) for m in mean_rgb)}",
        "# out = (in - mean_chn_i - min_chn_i) * var_reci_chn_i",
        "aipp_op {",
        "    aipp_mode : static",
        "    related_input_rank : 0",
        "    input_format : RGB888_U8",
        f"    src_image_size_w : {width}",
        f"    src_image_size_h : {height}",
        "    crop : false",
        "    csc_switch : false",
        "    rbuv_swap_switch : false",
    ]
    for i, mean in enumerate(mean_rgb):
        pixel_mean = float(mean) * 255.0
        whole = math.floor(pixel_mean)
        lines.append(f"    mean_chn_{i} : {whole}")
        lines.append(f"    min_chn_{i} : {round(pixel_mean - whole, 6)}")
    for i in range(3):
        lines.append(f"    var_reci_chn_{i} : {1.0 / 255.0:.10f}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def atc_argv(
    onnx_path: str | Path,
    output: str | Path,
    input_hw: tuple[int, int],
    batch: int = 1,
    soc_version: str = DEFAULT_SOC_VERSION,
    aipp_path: str | Path | None = None,
    input_name: str = "input",
) -> list[str]:
    """The seed's atc command as an argument list; `output` is the OM path without the .om suffix."""
    height, width = (int(v) for v in input_hw)
    argv = [
        "atc",
        "--framework=5",
        "--input_format=NCHW",
        f"--model={onnx_path}",
        f"--output={output}",
        f"--input_shape={input_name}:{int(batch)},3,{height},{width}",
        "--output_type=FP32",
        f"--soc_version={soc_version}",
    ]
    if aipp_path is not None:
        argv.append(f"--insert_op_conf={aipp_path}")
    return argv


def om_output_stem(output: str | Path) -> Path:
    """atc appends .om itself: strip it if the user gave it."""
    output = Path(output)
    return output.with_suffix("") if output.suffix == ".om" else output


def write_atc_files(
    onnx_path: str | Path,
    output: str | Path,
    input_hw: tuple[int, int],
    batch: int = 1,
    soc_version: str = DEFAULT_SOC_VERSION,
    aipp: bool = True,
    input_name: str = "input",
    mean_rgb=PIXEL_MEAN_RGB,
) -> AtcPlan:
    """Write `<output>_aipp.cfg` (when aipp; rgb/255 - mean_rgb) and `<output>_atc.sh`; return the plan
    (nothing is run)."""
    onnx_path = Path(onnx_path)
    if not onnx_path.is_file():
        raise PosekitError(f"{onnx_path}: ONNX file not found (run `posekit export onnx` first)")
    if batch < 1:
        raise PosekitError(f"--batch must be >= 1 for atc (got {batch})")
    stem = om_output_stem(output)
    aipp_path = stem.parent / f"{stem.name}_aipp.cfg" if aipp else None
    if aipp_path is not None:
        atomic_write_text(aipp_path, aipp_config_text(input_hw, mean_rgb))
    argv = atc_argv(onnx_path, stem, input_hw, batch, soc_version, aipp_path, input_name)
    script_path = stem.parent / f"{stem.name}_atc.sh"
    atomic_write_text(
        script_path, "#!/bin/sh\n# Run on a machine with the CANN toolkit.\n" + shlex.join(argv) + "\n"
    )
    script_path.chmod(0o755)
    return AtcPlan(
        argv=argv, om_path=stem.with_name(stem.name + ".om"), aipp_path=aipp_path, script_path=script_path
    )


def run_atc(plan: AtcPlan) -> bool:
    """Run atc when it is on PATH; return False (nothing run) when it is not. A failing atc raises."""
    exe = shutil.which("atc")
    if exe is None:
        return False
    result = subprocess.run([exe, *plan.argv[1:]], check=False)
    if result.returncode != 0:
        raise PosekitError(f"atc failed with exit code {result.returncode}: {plan.command}")
    return True
