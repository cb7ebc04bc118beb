"""The stages of an inference run: read -> detect -> pose (+ pose NMS) -> track, as generators over Frames.

`process` chains them; by default the reader, the detector and the pose model each run on their own
thread, joined by bounded queues (`qsize`); with `single_thread=True` (AlphaPose's `--sp`) the same
generators run in one thread and give the same results. At most `qsize` frames wait between two stages.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from posekit.detectors.base import Detector
from posekit.infer.detfile import DetectionFile
from posekit.infer.sources import Frame, Source
from posekit.infer.threads import threaded
from posekit.pose.types import PoseModel
from posekit.types import PoseResult

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
    detector: Detector | DetectionFile,
    batch_size: int,
    times: dict[str, float],
) -> Iterator[Frame]:
    """Fill frame.detections, calling the detector on batches of `batch_size` readable frames (in order)."""
    batch: list[Frame] = []

    def flush() -> list[Frame]:
        readable = [f for f in batch if f.image is not None]
        start = time.perf_counter()
        if isinstance(detector, DetectionFile):
            found = [detector.lookup(f.name) for f in readable]
        elif readable:
            found = detector.detect([f.image for f in readable])
        else:
            found = []
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


def _estimate(pose_model: PoseModel, image, detections) -> tuple:
    """The pose model on the detected boxes, with the detection extras it declares (e.g. the BlazePose
    detector's rotations, so lying or tilted people get an upright crop)."""
    wanted = [name for name in pose_model.detection_extras if name in detections.extras]
    extras = {name: detections.extras[name] for name in wanted}
    return pose_model.estimate(image, detections.boxes, **extras)


def pose_stage(
    frames: Iterable[Frame],
    pose_model: PoseModel,
    times: dict[str, float],
    min_box_area: float = 0.0,
    tracker=None,
    on_done: Callable[[], None] | None = None,
) -> Iterator[Frame]:
    """Fill frame.result: keypoints for each detected box, pose NMS, then the tracker's ids."""
    from posekit.pose.nms import detected_poses, pose_nms

    for frame in frames:
        if frame.image is not None:
            detections = frame.detections
            if detections is not None and len(detections):
                start = time.perf_counter()
                keypoints, scores = _estimate(pose_model, frame.image, detections)
                middle = time.perf_counter()
                suppress = pose_nms if pose_model.pose_nms else detected_poses
                result = suppress(
                    detections.boxes, detections.scores, keypoints, scores, min_box_area=min_box_area
                )
                times["pose"] += middle - start
                times["nms"] += time.perf_counter() - middle
            else:
                result = PoseResult.empty(pose_model.num_joints)
            if tracker is not None:
                start = time.perf_counter()
                result = tracker.update(frame.image, result)
                times["track"] += time.perf_counter() - start
            frame.result = result
        yield frame
    if on_done is not None:
        on_done()


def process(
    source: Source,
    detector: Detector | DetectionFile,
    pose_model: PoseModel,
    *,
    tracker=None,
    detbatch: int = 5,
    qsize: int = 32,
    single_thread: bool = False,
    min_box_area: float = 0.0,
    times: dict[str, float] | None = None,
    on_model_done: Callable[[], None] | None = None,
) -> Iterator[Frame]:
    """Frames of `source` with detections and results filled in, in input order (a live source is
    detected one frame at a time)."""
    times = times if times is not None else defaultdict(float)
    detbatch = 1 if source.live else detbatch

    def stage(items: Iterable[Frame], name: str) -> Iterable[Frame]:
        return items if single_thread else threaded(items, qsize, name)

    frames = stage(_timed(source.frames, times, "read"), "read")
    frames = stage(detect_stage(frames, detector, detbatch, times), "detect")
    return iter(stage(pose_stage(frames, pose_model, times, min_box_area, tracker, on_model_done), "pose"))
