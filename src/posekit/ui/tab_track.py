"""Track tab: a video -> tracked poses (as `posekit infer --pose_track/--pose_flow`), or frames + a results
json -> tracked json (as `posekit track`)."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from posekit.choices import (
    DEFAULT_BETA,
    DEFAULT_D_CUTOFF,
    DEFAULT_DET_INTERVAL,
    DEFAULT_MIN_CUTOFF,
    DEFAULT_TRACKER,
    TRACKERS,
)
from posekit.ui import tab_infer
from posekit.ui.common import friendly_errors, inside, output_folder, required_path


@friendly_errors
def run_track_video(
    video: str | None,
    tracker: str,
    detector: str,
    output_dir: str,
    smooth: bool = False,
    min_cutoff: float = DEFAULT_MIN_CUTOFF,
    beta: float = DEFAULT_BETA,
    d_cutoff: float = DEFAULT_D_CUTOFF,
    det_interval: float | None = None,
):
    """Detect, estimate and track a video with the detector on every det_interval frames (people are
    followed by their poses between; None: the CLI's default), optionally One-Euro smoothed; as `posekit
    infer --det_interval --smooth --smooth_min_cutoff --smooth_beta --smooth_d_cutoff`. Returns (summary,
    tracked video, downloads)."""
    from posekit.one_euro import OneEuroParams

    if not video:
        raise gr.Error("no video: upload one")
    outdir = output_folder(output_dir)
    copy = tab_infer.copy_uploads([video], outdir)[0]
    source = tab_infer.open_source([], copy, "")
    smoothing = OneEuroParams(min_cutoff, beta, d_cutoff) if smooth else None
    interval = None if det_interval is None else int(det_interval)  # empty field: the default
    summary = tab_infer.infer(
        source, outdir, tab_infer.AUTO_MODEL, "", "", detector, tracker, smoothing, interval
    )
    downloads = [str(p) for p in (summary.results_path, summary.video_path) if p]
    video_out = str(summary.video_path) if summary.video_path else None
    return tab_infer.describe(summary, outdir), video_out, downloads


@friendly_errors
def run_track_files(imgdir: str, in_json: str, tracker: str, output_dir: str):
    """Track the poses of a results json over its frames; (summary, drawn frames, downloads)."""
    from posekit.infer.track_job import track_folder

    frames, poses = required_path(imgdir, "frames folder"), required_path(in_json, "results json")
    outdir = output_folder(output_dir)
    out_json = inside(outdir, outdir / f"{Path(poses).stem}-tracked.json")
    visdir = inside(outdir, outdir / "vis")
    tracked = track_folder(frames, poses, out_json, visdir=visdir, tracker=tracker, forvis_dir=outdir)
    summary = (
        f"**{tracked.people} people** tracked over {tracked.frames} frame(s): `{out_json}`, "
        f"drawn frames in `{visdir}`"
    )
    return summary, [str(p) for p in tracked.drawn], [str(out_json)]


def build() -> None:
    """The Track tab's components and events."""
    from posekit.choices import DEFAULT_DETECTOR, detector_names

    gr.Markdown(
        "Give every person a track id across frames: **oks** is the fast online tracker, **poseflow** "
        "AlphaPose's PoseFlow (ORB feature matching)."
    )
    with gr.Row():
        tracker = gr.Radio(list(TRACKERS), value=DEFAULT_TRACKER, label="Tracker", elem_id="track-tracker")
        outdir = gr.Textbox(label="Output folder", value="examples/tracked/", elem_id="track-output")
    with gr.Tab("Video"):
        with gr.Row():
            video = gr.File(label="Video", file_types=["video"], elem_id="track-video")
            detector = gr.Dropdown(
                detector_names(), value=DEFAULT_DETECTOR, label="Person detector", elem_id="track-detector"
            )
            det_interval = gr.Number(
                value=None,
                precision=0,
                minimum=1,
                label=f"Detector every N frames (empty: {DEFAULT_DET_INTERVAL}; 1: every frame; between, "
                "people are followed by their poses)",
                elem_id="track-det-interval",
            )
        with gr.Row():
            smooth = gr.Checkbox(label="Smooth keypoints (One-Euro)", value=False, elem_id="track-smooth")
            min_cutoff = gr.Number(
                value=DEFAULT_MIN_CUTOFF,
                label="Smoothing min cutoff (Hz): lower = smoother, more lag",
                elem_id="track-smooth-min-cutoff",
            )
            beta = gr.Number(
                value=DEFAULT_BETA,
                label="Smoothing beta: higher = less lag when moving",
                elem_id="track-smooth-beta",
            )
            d_cutoff = gr.Number(
                value=DEFAULT_D_CUTOFF,
                label="Smoothing d cutoff (Hz): smoothing of the speed",
                elem_id="track-smooth-d-cutoff",
            )
        video_button = gr.Button("Track video", variant="primary", elem_id="track-video-run")
        video_summary = gr.Markdown(elem_id="track-video-result")
        video_out = gr.Video(label="Tracked video", height=360, elem_id="track-video-out")
        video_files = gr.File(
            label="Download", file_count="multiple", height=100, elem_id="track-video-downloads"
        )
    with gr.Tab("Frames + results json"):
        with gr.Row():
            imgdir = gr.Textbox(label="Frames folder", elem_id="track-imgdir")
            in_json = gr.Textbox(label="Results json (alphapose-results.json)", elem_id="track-json")
        files_button = gr.Button("Track", variant="primary", elem_id="track-files-run")
        files_summary = gr.Markdown(elem_id="track-files-result")
        gallery = gr.Gallery(label="Tracked frames", columns=4, height=360, elem_id="track-gallery")
        files_out = gr.File(
            label="Download", file_count="multiple", height=100, elem_id="track-files-downloads"
        )
    video_button.click(
        run_track_video,
        [video, tracker, detector, outdir, smooth, min_cutoff, beta, d_cutoff, det_interval],
        [video_summary, video_out, video_files],
    )
    files_button.click(
        run_track_files, [imgdir, in_json, tracker, outdir], [files_summary, gallery, files_out]
    )
