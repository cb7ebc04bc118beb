"""The stages of an inference run: read -> detect -> pose (+ pose NMS) -> track, as generators over Frames.

`process` chains them; by default the reader, the detector and the pose model each run on their own
thread, joined by bounded queues (`qsize`); with `single_thread=True` (AlphaPose's `--sp`) the same
generators run in one thread and give the same results. At most `qsize` frames wait between two stages.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator

import numpy as np

from posekit.detectors.base import Detector, NamedDetector, ThoroughDetector
from posekit.infer.sources import Frame, Source
from posekit.infer.threads import threaded
from posekit.infer.tracked import PoseStep, VideoOptions
from posekit.pose.types import PoseModel
from posekit.track import Tracker
from posekit.track.schedule import DetectionSchedule
from posekit.types import Detections

STAGES = ("read", "detect", "pose", "nms", "track", "render")


def _timed(items: Iterable[Frame], times: dict[str, float], key: str) -> Iterator[Frame]:
    """Yield from `items`, adding the time spent producing each item to times[key]."""
    iterator = iter(items)
    try:
        while True:
            start = time.perf_counter()
            try:
                item = next(iterator)
            except StopIteration:
                return
            finally:
                times[key] += time.perf_counter() - start
            yield item
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def detect_stage(
    frames: Iterable[Frame],
    detector: Detector,
    batch_size: int,
    times: dict[str, float],
    schedule: DetectionSchedule | None = None,
) -> Iterator[Frame]:
    """Fill frame.detections, calling the detector on batches of `batch_size` readable frames (in order);
    with a schedule of an interval > 1, only on the frames it picks (the others keep detections None),
    and with the detector's thorough scan when it has one (ThoroughDetector); a NamedDetector (a
    detection file) is given the frames' names too."""
    batch: list[Frame] = []
    detect = _detect_call(detector, thorough=schedule is not None and schedule.interval > 1)

    def flush() -> list[Frame]:
        readable = []
        for f in batch:
            if f.image is not None and (schedule is None or schedule(f.image)):
                readable.append(f)
                f.new_scene = schedule is not None and schedule.cut
        start = time.perf_counter()
        found = detect(readable) if readable else []
        times["detect"] += time.perf_counter() - start
        for f, detections in zip(readable, found):
            f.detections = detections
        return batch

    for frame in frames:
        batch.append(frame)
        if len(batch) >= max(1, batch_size):
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def _detect_call(detector: Detector, thorough: bool) -> Callable[[list[Frame]], list[Detections]]:
    """How the detect stage calls `detector` on readable frames: with their names (NamedDetector), with
    its thorough scan (when `thorough` and it has one), else detect()."""
    if isinstance(detector, NamedDetector):
        named = detector
        return lambda frames: named.detect_named([f.name for f in frames], _images(frames))
    if thorough and isinstance(detector, ThoroughDetector):
        scanner = detector
        return lambda frames: scanner.detect_thorough(_images(frames))
    return lambda frames: detector.detect(_images(frames))


def _images(frames: list[Frame]) -> list[np.ndarray]:
    """The images of readable frames."""
    return [f.image for f in frames if f.image is not None]


def pose_stage(
    frames: Iterable[Frame],
    step: PoseStep,
    times: dict[str, float],
    on_done: Callable[[], None] | None = None,
) -> Generator[Frame, None, None]:
    """Fill frame.result: keypoints for each crop, pose NMS, then the tracker's ids (see PoseStep)."""
    for frame in frames:
        if frame.image is not None:
            frame.result = step(frame.image, frame.detections, times, frame.timestamp, frame.new_scene)
        yield frame
    if on_done is not None:
        on_done()


def process(
    source: Source,
    detector: Detector,
    pose_model: PoseModel,
    *,
    tracker: Tracker | None = None,
    detbatch: int = 5,
    qsize: int = 32,
    single_thread: bool = False,
    min_box_area: float = 0.0,
    times: dict[str, float] | None = None,
    on_model_done: Callable[[], None] | None = None,
    video: VideoOptions | None = None,
) -> Generator[Frame, None, None]:
    """Frames of `source` with detections and results filled in, in input order (a live source is
    detected one frame at a time); closing the generator stops the stages' threads."""
    times = times if times is not None else defaultdict(float)
    detbatch = 1 if source.live else detbatch
    step = PoseStep(pose_model, tracker, video, min_box_area, source.fps)

    def stage(items: Iterable[Frame], name: str) -> Iterable[Frame]:
        return items if single_thread else threaded(items, qsize, name)

    frames = stage(_timed(source.frames, times, "read"), "read")
    frames = stage(detect_stage(frames, detector, detbatch, times, step.schedule()), "detect")
    posed = pose_stage(frames, step, times, on_model_done)
    return posed if single_thread else threaded(posed, qsize, "pose")
