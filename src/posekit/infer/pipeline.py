"""Pipeline: the one way to build an inference run (CLI, UI, benchmarks and `posekit.load` use it).

The detector and the pose model are loaded once, from InferOptions, and reused by every call:
`pipe(image)` for one image, `pipe.stream(source)` for frames as they finish, `pipe.run(source)` for
a whole run written to `outdir` (results json, rendered images or video).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import defaultdict
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from posekit.errors import PosekitError
from posekit.infer.options import InferOptions
from posekit.infer.sources import Frame, Source, open_source
from posekit.types import PoseResult

if TYPE_CHECKING:
    from posekit.infer.run import RunSummary
    from posekit.infer.tracked import VideoOptions
    from posekit.track import Tracker


def _quiet(message: str) -> None:
    """A log that says nothing."""


class Pipeline:
    """A person detector + pose model (+ a tracker per stream), built once from `options`.

    detector / pose_model: already built models to use instead of loading the ones `options` name.
    log: where the loading messages go (default: nowhere).
    """

    def __init__(
        self,
        options: InferOptions | None = None,
        *,
        detector: Any = None,
        pose_model: Any = None,
        log: Callable[[str], None] = _quiet,
    ) -> None:
        from posekit.infer.models import load_detector, load_pose_estimator

        self.options = options = options or InferOptions()
        if detector is None:
            detector = load_detector(options.model, tracking=options.stream.tracking, log=log)
        if pose_model is None:
            pose_model = load_pose_estimator(options.model, detector, log=log)
        self.detector, self.pose_model = detector, pose_model

    def __repr__(self) -> str:
        return f"Pipeline({self.options!r})"

    def with_options(self, **changes: Any) -> Pipeline:
        """A Pipeline with some options changed; it shares this one's detector and pose model unless
        an option that picks them (detector, cfg, checkpoint, backend, device, tracking, ...) changed."""
        options = self.options.replace(**changes)
        same_detector = options.detector_key() == self.options.detector_key()
        same_pose = options.pose_key() == self.options.pose_key()
        return Pipeline(
            options,
            detector=self.detector if same_detector else None,
            pose_model=self.pose_model if same_pose else None,
        )

    def new_tracker(self, outdir: str | Path | None = None, name: str | None = None) -> Tracker | None:
        """A fresh tracker: `name`, else as options.tracker says (None for "none"); with `outdir`,
        PoseFlow also writes the seed's matching files there."""
        name = name or self.options.stream.tracker_name
        if name is None:
            return None
        from posekit.track import build_tracker, inference_tracker

        if outdir is None:
            return build_tracker(name)
        return inference_tracker(name, outdir)

    def video_plan(self, source: Source) -> tuple[VideoOptions, str | None]:
        """How `source` is followed (posekit.infer.tracked.video_options): options.det_interval, or
        the default for video, webcam and tracked runs; smoothing; and the tracker that needs
        (options.tracker, or the default one when pose-guided crops or smoothing need one). A one-stage
        model's people come from the detector on every frame: its det_interval is 1 (an explicit one
        > 1 is ignored, with a warning)."""
        from posekit.infer.tracked import video_options

        stream = self.options.stream
        video, tracker = video_options(
            source.is_video, stream.tracker_name, stream.det_interval, stream.smoothing
        )
        if not self.pose_model.pose_nms:
            if stream.det_interval is not None and stream.det_interval > 1:
                warnings.warn(
                    f"--det_interval {stream.det_interval} ignored: the keypoints of {self.detector.name} "
                    "come from the detector itself, which runs on every frame",
                    stacklevel=2,
                )
            video = dataclasses.replace(video, det_interval=1)
        return video, tracker

    def frames(
        self,
        source: Source,
        *,
        tracker: Any = None,
        times: dict[str, float] | None = None,
        on_model_done: Callable[[], None] | None = None,
        single_thread: bool | None = None,
        video: VideoOptions | None = None,
    ) -> Generator[Frame, None, None]:
        """The threaded stages over `source` (posekit.infer.stages.process) with this pipeline's models
        and options (single_thread: instead of options.single_thread; video: det_interval and
        smoothing, default every frame detected, no smoothing): Frames with detections and results,
        in input order."""
        from posekit.infer.stages import process

        stream = self.options.stream
        return process(
            source,
            self.detector,
            self.pose_model,
            tracker=tracker,
            detbatch=stream.detbatch,
            qsize=stream.qsize,
            single_thread=stream.single_thread if single_thread is None else single_thread,
            min_box_area=stream.min_box_area,
            times=times if times is not None else defaultdict(float),
            on_model_done=on_model_done,
            video=video,
        )

    def __call__(self, image: np.ndarray | str | Path) -> PoseResult:
        """The people in one image: an RGB uint8 array (H, W, 3) or an image file path (refused, as
        `stream` skips it, when unreadable or over options.max_pixels).

        Each call stands alone (no tracking across calls: for track ids use `stream`)."""
        source = open_source(image, self.options.stream.max_pixels, kind="image")
        (done,) = self.frames(source, single_thread=True)
        if done.image is None or done.result is None:  # the pose stage fills every readable frame
            raise PosekitError(done.error or f"{done.name}: not readable")
        return done.result

    def stream(self, source: Any) -> Iterator[tuple[str, np.ndarray, PoseResult]]:
        """Yield (name, RGB image, PoseResult) for each frame of `source` as it finishes, with the
        threaded stages behind it (bounded queues); closing the generator early stops the threads.

        source: a video file, a webcam index (int), a folder of images, an image file, a list of
        image paths or RGB arrays, or any iterable of RGB arrays. Images are named by their file
        name, arrays and video frames "{k}.jpg". With a tracker, ids are track ids across the stream.
        Unreadable images are skipped with a warning.
        """
        return self._stream(open_source(source, self.options.stream.max_pixels))

    def _stream(self, source: Source) -> Iterator[tuple[str, np.ndarray, PoseResult]]:
        video, tracker = self.video_plan(source)
        frames = self.frames(source, tracker=self.new_tracker(name=tracker), video=video)
        try:
            for frame in frames:
                if frame.image is None or frame.result is None:  # result is set on every readable frame
                    warnings.warn(f"skipped {frame.error}", stacklevel=2)
                    continue
                yield frame.name, frame.image, frame.result
        finally:
            frames.close()

    def run(
        self,
        source: Any,
        *,
        progress: bool = True,
        log: Callable[[str], None] | None = None,
    ) -> RunSummary:
        """Run over `source` (anything `stream` takes, or a posekit.infer.sources.Source) and write
        options.outdir: alphapose-results.json (streamed), rendered images (vis/) or the video as the
        options say. Returns the RunSummary. Ctrl-C stops the run with the frames done written."""
        from posekit.infer.run import run_inference

        options = self.options
        opened = open_source(source, options.stream.max_pixels)
        video, tracker = self.video_plan(opened)
        return run_inference(
            opened,
            self.detector,
            self.pose_model,
            options.output,
            stream=options.stream,
            tracker=self.new_tracker(options.output.outdir, tracker),
            progress=progress,
            log=log,
            video=video,
        )
