"""The Python API: `posekit.load(...)` builds a Pipeline from the options of `posekit infer`.

import posekit
pipe = posekit.load()                      # the embedded default model
pipe = posekit.load(detector="yolox", tracker="oks")        # options by their flat names
pipe = posekit.load(posekit.InferOptions(), flip=True)      # or an InferOptions, changed
result = pipe("photo.jpg")                 # PoseResult: boxes, keypoints (N, 17, 2), scores, ...
for name, image, result in pipe.stream("video.mp4"):
    ...
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from posekit.batching import BatchSummary
    from posekit.infer.annotate_job import AnnotateSummary
    from posekit.infer.options import InferOptions
    from posekit.infer.pipeline import Pipeline


def load(options: InferOptions | None = None, /, **changes: Any) -> Pipeline:
    """A Pipeline with its models loaded once: `options` (default InferOptions(), the defaults of
    `posekit infer`) with `changes` applied, by the options' flat names (detector=..., tracker=...,
    outdir=...; see posekit.infer.options). Without cfg + checkpoint: the embedded default model, or a
    keypoint detector's own keypoints (pose_model). An unknown name or a bad value raises PosekitError
    naming the option and what it accepts."""
    from posekit.infer.pipeline import Pipeline

    return Pipeline(_options(options, changes))


def annotate(
    indir: str | Path,
    output: str | Path | None = None,
    *,
    kpt_thr: float = 0.4,
    mode: str = "new",
    embed_images: bool = False,
    progress: bool = False,
    options: InferOptions | None = None,
    **changes: Any,
) -> AnnotateSummary:
    """Pre-label the photos of `indir` into Labelme files in `output` (default: beside them), as
    `posekit annotate` does: options and changes as `posekit.load` takes them (the model), mode one
    of "new" (stop if a Labelme file exists), "only-missing", "merge", "overwrite". Returns the
    AnnotateSummary."""
    from posekit.infer.annotate_job import AnnotateOptions, annotate_folder

    settings = AnnotateOptions(kpt_thr=kpt_thr, mode=mode, embed_images=embed_images)
    return annotate_folder(_options(options, changes), indir, output, settings, progress=progress)


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
    options: InferOptions | None = None,
    **changes: Any,
) -> BatchSummary:
    """Run `posekit batch` over inputs (folders, videos, images, globs, list files) into outdir on Ray:
    options and changes as `posekit.load` takes them (models, tracker, det_interval, smoothing,
    format, save_video, ...). Returns the BatchSummary (done, failed, skipped units; frames; seconds)."""
    from pathlib import Path

    from posekit.batching import BatchOptions, run_batch

    names = [inputs] if isinstance(inputs, str | Path) else list(inputs)
    where = BatchOptions(workers, threads, ray_address, gpus_per_worker, retries)
    return run_batch(names, outdir, _options(options, changes), where, progress=progress)


def _options(options: InferOptions | None, changes: dict[str, Any]) -> InferOptions:
    """`options` (default InferOptions()) with the flat `changes` applied."""
    from posekit.errors import PosekitError
    from posekit.infer.options import InferOptions

    if options is not None and not isinstance(options, InferOptions):
        raise PosekitError(f"options must be an InferOptions, got {type(options).__name__}")
    return (options or InferOptions()).replace(**changes)
