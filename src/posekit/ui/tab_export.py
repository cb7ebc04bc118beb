"""Export tab: FastPose checkpoint -> ONNX, plus the Ascend atc command (as `posekit export onnx|om`)."""

from __future__ import annotations

import gradio as gr

from posekit.export import DEFAULT_SOC_VERSION
from posekit.ui.common import friendly_errors, inside, output_folder, required_path


@friendly_errors
def run_export(
    cfg_path: str,
    checkpoint: str,
    output_onnx: str,
    batch: float,
    dynamic: bool,
    opset: float,
    preprocess: str,
    simplify: bool = False,
    soc_version: str = DEFAULT_SOC_VERSION,
) -> tuple[str, str]:
    """Export as `posekit export onnx` does, write the atc files beside it; return (summary, atc command)."""
    from posekit.export.jobs import export_checkpoint, plan_om
    from posekit.export.onnx import ExportOptions

    cfg_file = required_path(cfg_path, "config")
    ckpt = required_path(checkpoint, "checkpoint")
    target = required_path(output_onnx, "output ONNX path")
    folder = output_folder(str(target.parent), "ONNX output folder")
    target = inside(folder, target)
    pre = None if preprocess == "none" else preprocess
    options = ExportOptions(
        batch=int(batch),
        dynamic_batch=bool(dynamic),
        opset=int(opset),
        preprocess=pre,
        simplify=bool(simplify),
    )
    report = export_checkpoint(cfg_file, ckpt, target, options)
    lines = [
        f"Wrote `{report.path}`: input `{report.input_dtype}{list(report.input_shape)}`, output `output`"
    ]
    if report.max_abs_diff is not None:
        lines.append(f"max abs difference from PyTorch on a sample crop: {report.max_abs_diff:.3g}")
    if pre is not None:
        lines.append("The graph takes uint8 RGB crops: the atc command is for float input only.")
        return "\n\n".join(lines), ""
    plan = plan_om(report.path, cfg_file, soc_version=(soc_version or DEFAULT_SOC_VERSION).strip())
    lines.append(f"Ascend: AIPP config `{plan.aipp_path}` and script `{plan.script_path}` written.")
    return "\n\n".join(lines), plan.command


def build() -> None:
    """The Export tab's components and events."""
    gr.Markdown(
        "Export a FastPose checkpoint to ONNX (checked against PyTorch when onnxruntime is installed) "
        "and get the `atc` command that turns it into an Ascend OM model."
    )
    with gr.Row():
        cfg = gr.Textbox(
            label="Config (.yaml)",
            value="configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml",
            elem_id="export-cfg",
        )
        ckpt = gr.Textbox(
            label="Input checkpoint (.pth)",
            placeholder="exp/default-.../final.pth",
            elem_id="export-checkpoint",
        )
        out = gr.Textbox(label="Output ONNX file", value="exported/fastpose.onnx", elem_id="export-output")
    with gr.Accordion("Options", open=False), gr.Row():
        batch = gr.Number(value=1, precision=0, minimum=1, label="Fixed batch size", elem_id="export-batch")
        dynamic = gr.Checkbox(label="Dynamic batch axis", value=False, elem_id="export-dynamic")
        opset = gr.Number(value=11, precision=0, minimum=11, label="ONNX opset", elem_id="export-opset")
        pre = gr.Radio(
            ["none", "nhwc", "nchw"],
            value="none",
            label="Preprocess inside the graph (uint8)",
            elem_id="export-preprocess",
        )
        simplify = gr.Checkbox(label="Simplify (onnxsim)", value=False, elem_id="export-simplify")
        soc = gr.Textbox(label="Ascend SoC version", value=DEFAULT_SOC_VERSION, elem_id="export-soc")
    button = gr.Button("Export", variant="primary", elem_id="export-run")
    result = gr.Markdown(elem_id="export-result")
    atc = gr.Code(
        label="Ascend atc command (run where the CANN toolkit is installed)",
        language="shell",
        elem_id="export-atc",
        interactive=False,
    )
    button.click(run_export, [cfg, ckpt, out, batch, dynamic, opset, pre, simplify, soc], [result, atc])
