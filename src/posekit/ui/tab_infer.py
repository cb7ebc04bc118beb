"""Infer tab: images, a folder or a video -> poses, rendered results and alphapose-results.json."""

from __future__ import annotations

import shutil
from pathlib import Path

import gradio as gr

from posekit.choices import NO_TRACKER
from posekit.ui.common import friendly_errors, inside, output_folder

DEFAULT_MODEL = "Default (embedded BlazePose -> COCO-17)"
FASTPOSE_MODEL = "FastPose config + checkpoint"
DETECTOR_MODEL = "The detector's own keypoints (one-stage: YOLO-pose detectors)"
AUTO_MODEL = "auto"  # the detector's keypoints if it has them, else the default model (Track tab)
# radio choice -> InferOptions.pose_model (FastPose: its cfg and checkpoint decide)
POSE_MODEL_CHOICE = {DEFAULT_MODEL: "default", DETECTOR_MODEL: "detector", AUTO_MODEL: "auto"}


def copy_uploads(files: list[str] | None, folder: Path) -> list[Path]:
    """Copy uploaded files into `folder/inputs/` (inside the chosen output folder); return the copies.

    An image or video whose header gives more pixels than posekit decodes (the --max-pixels default)
    is refused here, before it is copied, with the same message as on the command line."""
    from posekit.io.images import IMAGE_SUFFIXES, check_image_pixels
    from posekit.io.video import check_video_pixels

    target = inside(folder, folder / "inputs")
    target.mkdir(parents=True, exist_ok=True)
    copies = []
    for name in files or []:
        source = Path(name)
        if source.suffix.lower() in IMAGE_SUFFIXES:
            check_image_pixels(source)
        else:
            check_video_pixels(source)
        copy = inside(folder, target / source.name)
        shutil.copyfile(source, copy)
        copies.append(copy)
    return copies


def open_source(uploads: list[Path], video: Path | None, folder_path: str):
    """The pipeline source from what the user gave: a video, uploaded images, else a typed folder."""
    from posekit.infer.sources import open_source as open_input

    if video is not None:
        return open_input(video, kind="video")
    if uploads:
        return open_input(uploads, kind="images")
    if folder_path and folder_path.strip():
        return open_input(folder_path.strip(), kind="folder")
    raise gr.Error("no input: upload images or a video, or type a folder of images")


def infer(
    source,
    outdir: Path,
    model: str,
    cfg_path: str,
    checkpoint: str,
    detector: str,
    tracker: str = NO_TRACKER,
    smoothing=None,
    det_interval: int | None = None,
):
    """Run the `posekit infer` pipeline (the same Pipeline as the CLI) and return its RunSummary;
    smoothing: OneEuroParams for `--smooth`, None for none; det_interval: `--det_interval` (None: its
    default)."""
    from posekit.infer.options import InferOptions, ModelOptions, OutputOptions, StreamOptions
    from posekit.infer.pipeline import Pipeline
    from posekit.one_euro import OneEuroParams

    fastpose = model == FASTPOSE_MODEL
    smooth = smoothing or OneEuroParams()
    options = InferOptions(
        ModelOptions(
            detector=detector,
            cfg=cfg_path if fastpose else None,
            checkpoint=checkpoint if fastpose else None,
            pose_model=POSE_MODEL_CHOICE.get(model, "auto"),
            device="cpu",
        ),
        StreamOptions(
            tracker=tracker,
            det_interval=det_interval,
            smooth=smoothing is not None,
            smooth_min_cutoff=smooth.min_cutoff,
            smooth_beta=smooth.beta,
            smooth_d_cutoff=smooth.d_cutoff,
        ),
        OutputOptions(
            outdir=str(outdir),
            save_img=not source.is_video,
            save_video=source.is_video,
            showbox=tracker != NO_TRACKER,
        ),
    )
    return Pipeline(options, log=print).run(source, progress=False)


def describe(summary, outdir: Path) -> str:
    """A short markdown summary of a run."""
    lines = [
        f"**{summary.frames} frame(s), {summary.people} pose(s)** in {summary.seconds:.1f} s "
        f"({summary.fps:.2f} frames/s)",
        f"- results: `{summary.results_path}`",
    ]
    if summary.video_path:
        lines.append(f"- rendered video: `{summary.video_path}`")
    elif summary.frames:
        lines.append(f"- rendered images: `{outdir / 'vis'}`")
    lines += [f"- skipped `{name}`: {error}" for name, error in summary.failed]
    return "\n".join(lines)


@friendly_errors
def run_infer(
    files: list[str] | None,
    video: str | None,
    folder_path: str,
    model: str,
    cfg_path: str,
    checkpoint: str,
    detector: str,
    output_dir: str,
    tracker: str = NO_TRACKER,
):
    """Infer action: (summary, gallery images, video, files to download)."""
    outdir = output_folder(output_dir)
    uploads = copy_uploads(files, outdir)
    video_copy = copy_uploads([video], outdir)[0] if video else None
    summary = infer(
        open_source(uploads, video_copy, folder_path), outdir, model, cfg_path, checkpoint, detector, tracker
    )
    vis = sorted((outdir / "vis").glob("*")) if not summary.video_path else []
    downloads = [str(p) for p in (summary.results_path, summary.video_path) if p]
    video_out = (
        gr.update(value=str(summary.video_path), visible=True)
        if summary.video_path
        else gr.update(visible=False)
    )
    gallery = gr.update(value=[str(p) for p in vis], visible=bool(vis))
    return describe(summary, outdir), gallery, video_out, gr.update(value=downloads, visible=True)


def build() -> None:
    """The Infer tab's components and events."""
    from posekit.choices import DEFAULT_DETECTOR, detector_names

    gr.Markdown("Detect people and estimate their COCO-17 poses, as `posekit infer` does.")
    with gr.Row():
        with gr.Column():
            with gr.Tab("Images"):
                files = gr.File(
                    label="Images", file_count="multiple", file_types=["image"], elem_id="infer-files"
                )
            with gr.Tab("Video"):
                video = gr.File(label="Video", file_types=["video"], elem_id="infer-video")
            with gr.Tab("Folder on this machine"):
                folder = gr.Textbox(label="Folder of images", elem_id="infer-folder")
        with gr.Column():
            model = gr.Radio(
                [DEFAULT_MODEL, DETECTOR_MODEL, FASTPOSE_MODEL],
                value=DEFAULT_MODEL,
                label="Pose model",
                elem_id="infer-model",
            )
            with gr.Row(visible=False) as fastpose_row:
                cfg = gr.Textbox(label="FastPose config", elem_id="infer-cfg")
                ckpt = gr.Textbox(label="FastPose checkpoint", elem_id="infer-checkpoint")
            detector = gr.Dropdown(
                detector_names(), value=DEFAULT_DETECTOR, label="Person detector", elem_id="infer-detector"
            )
            outdir = gr.Textbox(label="Output folder", value="examples/res/", elem_id="infer-output")
    button = gr.Button("Run", variant="primary", elem_id="infer-run")
    summary = gr.Markdown(elem_id="infer-result")
    gallery = gr.Gallery(
        label="Rendered images",
        columns=3,
        height=420,
        object_fit="contain",
        visible=False,
        elem_id="infer-gallery",
    )
    video_out = gr.Video(label="Rendered video", height=420, visible=False, elem_id="infer-video-out")
    downloads = gr.File(label="Download", file_count="multiple", visible=False, elem_id="infer-downloads")
    model.change(lambda m: gr.update(visible=m == FASTPOSE_MODEL), model, fastpose_row)
    button.click(
        run_infer,
        [files, video, folder, model, cfg, ckpt, detector, outdir],
        [summary, gallery, video_out, downloads],
    )
