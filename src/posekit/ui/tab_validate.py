"""Validate tab: gt-box and det-box COCO mAP of a checkpoint (as `posekit validate`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import gradio as gr

from posekit.config import Config, load_config
from posekit.ui.common import friendly_errors, inside, markdown_table, output_folder, required_path


def detections_in(cfg: Config, folder: Path) -> Config:
    """cfg with a missing DATASET.TEST.DET_FILE moved into folder, where the detector then writes it."""
    test = cfg.dataset.test
    if test is None or Path(test.det_file).is_file():
        return cfg
    det_file = inside(folder, folder / (Path(test.det_file).name or "test_det.json"))
    test = dataclasses.replace(test, det_file=str(det_file))
    return dataclasses.replace(cfg, dataset=dataclasses.replace(cfg.dataset, test=test))


@friendly_errors
def run_validate(cfg_path: str, checkpoint: str, detector: str, output_dir: str, flip: bool) -> str:
    """Validate on the config's val split; the result jsons go into the output folder."""
    from posekit.evaluate.validate import validate_det_boxes, validate_gt_boxes
    from posekit.pose.estimator import TopDownEstimator

    cfg = load_config(required_path(cfg_path, "config"))
    ckpt = required_path(checkpoint, "checkpoint")
    folder = output_folder(output_dir)
    cfg = detections_in(cfg, folder)
    estimator = TopDownEstimator.from_checkpoint(cfg, ckpt, device="cpu", flip=bool(flip))
    gt_json, det_json = (
        inside(folder, folder / "validate_gt_kpt.json"),
        inside(folder, folder / "validate_rcnn_kpt.json"),
    )
    gt_map = validate_gt_boxes(estimator, cfg, gt_json)
    det_map = validate_det_boxes(estimator, cfg, det_json, detector=detector or None, device="cpu")
    return markdown_table(
        ["boxes", "mAP", "results"],
        [["ground truth", f"{gt_map:.4f}", f"`{gt_json}`"], ["detected", f"{det_map:.4f}", f"`{det_json}`"]],
    )


def build() -> None:
    """The Validate tab's components and events."""
    from posekit.choices import DEFAULT_DETECTOR, detector_names

    gr.Markdown(
        "COCO keypoint mAP on the config's validation split, with ground-truth boxes and with detected "
        "boxes (DATASET.TEST.DET_FILE, or the detector below creates it in the output folder)."
    )
    with gr.Row():
        cfg = gr.Textbox(
            label="Config (.yaml)",
            value="configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml",
            elem_id="validate-cfg",
        )
        ckpt = gr.Textbox(label="Checkpoint (.pth)", elem_id="validate-checkpoint")
    with gr.Row():
        detector = gr.Dropdown(
            detector_names(),
            value=DEFAULT_DETECTOR,
            label="Detector (when DET_FILE is missing)",
            elem_id="validate-detector",
        )
        outdir = gr.Textbox(label="Output folder (result jsons)", value="exp/json", elem_id="validate-output")
        flip = gr.Checkbox(label="Flip test", value=False, elem_id="validate-flip")
    button = gr.Button("Validate", variant="primary", elem_id="validate-run")
    result = gr.Markdown(elem_id="validate-result")
    button.click(run_validate, [cfg, ckpt, detector, outdir, flip], result)
