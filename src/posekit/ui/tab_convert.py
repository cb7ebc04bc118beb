"""Convert tab: Labelme folder -> COCO keypoints (the seed's step 1 with its GUI fields)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from posekit.convert import convert_labelme
from posekit.convert.prelabel import DEFAULT_KPT_THR
from posekit.ui.common import friendly_errors, markdown_table, output_folder, required_path

PRELABEL_MODES = {
    "Stop if a photo already has a Labelme file": "new",
    "Only photos without a Labelme file": "only-missing",
    "Add predicted people to existing files": "merge",
    "Replace existing files": "overwrite",
}


@friendly_errors
def run_convert(input_dir: str, output_dir: str, ratio: float, seed: float, progress=gr.Progress()) -> str:
    """Convert and describe the result: counts, where files went, skipped files with reasons."""
    source = required_path(input_dir, "input folder")
    target = output_folder(output_dir)
    total = max(1, sum(1 for p in source.glob("*.json")))
    done = [0]

    def step(_path) -> None:
        done[0] += 1
        progress(done[0] / total, desc="checking Labelme files")

    summary = convert_labelme(source, target, ratio=float(ratio), seed=int(seed), progress=step)
    lines = [
        f"**{summary.count('train')} for training, {summary.count('val')} for validation** "
        f"({summary.num_people} people) written to `{summary.coco_root}`",
        "",
        f"- `{summary.coco_root / 'annotations' / 'person_keypoints_train2017.json'}`",
        f"- `{summary.coco_root / 'annotations' / 'person_keypoints_val2017.json'}`",
        "",
    ]
    if summary.skipped:
        lines.append(f"**{len(summary.skipped)} skipped:**\n")
        lines.append(markdown_table(["file", "reason"], [[s.path.name, s.reason] for s in summary.skipped]))
    else:
        lines.append("No file skipped.")
    return "\n".join(lines)


@friendly_errors
def run_prelabel(
    input_dir: str, output_dir: str, detector: str, mode: str, kpt_thr: float, progress=gr.Progress()
) -> str:
    """Pre-label a folder of photos into Labelme files in the output folder (as `posekit annotate`)."""
    from posekit.infer.annotate_job import AnnotateOptions, annotate_folder
    from posekit.infer.options import InferOptions, ModelOptions

    source = required_path(input_dir, "folder of photos")
    target = output_folder(output_dir)
    options = AnnotateOptions(kpt_thr=float(kpt_thr), mode=PRELABEL_MODES.get(mode, mode))
    summary = annotate_folder(
        InferOptions(ModelOptions(detector=detector, device="cpu")),
        source,
        target,
        options,
        progress=False,
        on_image=lambda done, total: progress(done / max(total, 1), desc="pre-labelling"),
        log=print,
    )
    lines = [
        f"**{summary.people} people ({summary.points} points) pre-labelled** in `{target}`: "
        f"{len(summary.written)} file(s) written, {len(summary.merged)} merged, "
        f"{len(summary.kept)} kept as they were ({summary.seconds:.1f} s). Open the folder in Labelme, "
        "fix what is wrong, then convert it above.",
    ]
    if summary.failed:
        lines.append(f"\n**{len(summary.failed)} skipped:**\n")
        lines.append(markdown_table(["photo", "reason"], [[Path(n).name, r] for n, r in summary.failed]))
    return "\n".join(lines)


def build() -> None:
    """The Convert tab's components and events (inside a gr.Blocks / gr.Tab context)."""
    gr.Markdown("Convert a folder of Labelme files (person polygons + 17 keypoints) into COCO keypoints.")
    with gr.Row():
        input_dir = gr.Textbox(label="Input folder (Labelme .json + images)", elem_id="convert-input")
        output_dir = gr.Textbox(label="Output folder", value="./data/", elem_id="convert-output")
    with gr.Row():
        ratio = gr.Slider(0.05, 0.95, value=0.2, step=0.05, label="Validation ratio", elem_id="convert-ratio")
        seed = gr.Number(value=0, precision=0, label="Split seed", elem_id="convert-seed")
    button = gr.Button("Convert", variant="primary", elem_id="convert-run")
    result = gr.Markdown(elem_id="convert-result")
    button.click(run_convert, [input_dir, output_dir, ratio, seed], result)
    build_prelabel()


def build_prelabel() -> None:
    """Pre-labelling: a folder of photos -> Labelme files of predicted people."""
    from posekit.choices import DEFAULT_DETECTOR, detector_names

    gr.Markdown("Pre-label photos: a pose model writes a Labelme file per photo for you to review.")
    with gr.Row():
        photos = gr.Textbox(label="Folder of photos", elem_id="prelabel-input")
        output = gr.Textbox(
            label="Output folder (Labelme files)", value="./data/input", elem_id="prelabel-output"
        )
    with gr.Row():
        detector = gr.Dropdown(
            detector_names(), value=DEFAULT_DETECTOR, label="Person detector", elem_id="prelabel-detector"
        )
        mode = gr.Dropdown(
            list(PRELABEL_MODES),
            value=next(iter(PRELABEL_MODES)),
            label="Existing files",
            elem_id="prelabel-mode",
        )
        kpt_thr = gr.Slider(
            0.0, 1.0, value=DEFAULT_KPT_THR, step=0.05, label="Lowest keypoint score", elem_id="prelabel-thr"
        )
    button = gr.Button("Pre-label", elem_id="prelabel-run")
    result = gr.Markdown(elem_id="prelabel-result")
    button.click(run_prelabel, [photos, output, detector, mode, kpt_thr], result)
