"""Convert tab: Labelme folder -> COCO keypoints (the seed's step 1 with its GUI fields)."""

from __future__ import annotations

import gradio as gr

from posekit.convert import convert_labelme
from posekit.ui.common import friendly_errors, markdown_table, output_folder, required_path


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
