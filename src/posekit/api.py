"""The Python API: `posekit.load(...)` builds a Pipeline from the options of `posekit infer`.

import posekit
pipe = posekit.load()                      # the embedded default model
result = pipe("photo.jpg")                 # PoseResult: boxes, keypoints (N, 17, 2), scores, ...
for name, image, result in pipe.stream("video.mp4"):
    ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from posekit.batching import BatchSummary
    from posekit.infer.annotate_job import AnnotateSummary
    from posekit.infer.pipeline import Pipeline


def load(
    *,
    detector: str = "blazepose",
    detector_weights: str | None = None,
    detfile: str | None = None,
    cfg: str | None = None,
    checkpoint: str | None = None,
    pose_model: str = "auto",
    backend: str = "auto",
    det_backend: str | None = None,
    precision: str = "auto",
    compile: bool = False,
    flip: bool = False,
    refine: bool = False,
    device: str = "auto",
    detbatch: int = 5,
    posebatch: int = 64,
    min_box_area: float = 0.0,
    tracker: str = "none",
    qsize: int = 16,
    single_thread: bool = False,
    max_pixels: int | None = 120_000_000,
    outdir: str = "examples/res/",
    format: str = "coco",
    for_eval: bool = False,
    save_img: bool | None = None,
    save_video: bool = False,
    vis_fast: bool = False,
    showbox: bool = False,
    det_interval: int | None = None,
    smooth: bool = False,
    smooth_min_cutoff: float = 0.3,
    smooth_beta: float = 4.0,
    smooth_d_cutoff: float = 1.0,
) -> Pipeline:
    """A Pipeline with its models loaded once, from the options of `posekit infer` (the same names and
    defaults; see posekit.infer.options.InferOptions). Without cfg + checkpoint: the embedded default
    model, or a keypoint detector's own keypoints (pose_model). A bad value raises PosekitError
    naming the option and what it accepts."""
    options = dict(locals())
    from posekit.infer.options import InferOptions
    from posekit.infer.pipeline import Pipeline

    return Pipeline(InferOptions(**options))


def annotate(
    indir: str | Path,
    output: str | Path | None = None,
    *,
    kpt_thr: float = 0.4,
    mode: str = "new",
    embed_images: bool = False,
    progress: bool = False,
    **options,
) -> AnnotateSummary:
    """Pre-label the photos of `indir` into Labelme files in `output` (default: beside them), as
    `posekit annotate` does: options are `posekit.load`'s (the model), mode one of "new" (stop if a
    Labelme file exists), "only-missing", "merge", "overwrite". Returns the AnnotateSummary."""
    from posekit.infer.annotate_job import AnnotateOptions, annotate_folder
    from posekit.infer.options import InferOptions

    settings = AnnotateOptions(kpt_thr=kpt_thr, mode=mode, embed_images=embed_images)
    return annotate_folder(InferOptions(**options), indir, output, settings, progress=progress)


def batch(
    inputs: list[str | Path] | str | Path,
    outdir: str | Path,
    *,
    workers: int | None = None,
    threads: int | None = None,
    ray_address: str | None = None,
    gpus_per_worker: float = 0.0,
    retries: int = 2,
    progress: bool = False,
    **options,
) -> BatchSummary:
    """Run `posekit batch` over inputs (folders, videos, images, globs, list files) into outdir on Ray:
    options are `posekit.load`'s (models, tracker, det_interval, smoothing, format, save_video, ...).
    Returns the BatchSummary (done, failed, skipped units; frames; seconds)."""
    from pathlib import Path

    from posekit.batching import BatchOptions, run_batch
    from posekit.infer.options import InferOptions

    names = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    where = BatchOptions(workers, threads, ray_address, gpus_per_worker, retries)
    return run_batch(names, outdir, InferOptions(**options), where, progress=progress)
