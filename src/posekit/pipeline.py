"""The inference pipeline: read -> detect -> pose (+ pose NMS) -> track -> render/write.

Each step is a generator over `Frame`s. By default the reader, the detector and the pose model each
run on their own thread, joined by bounded queues (`qsize`), and the calling thread renders and
collects results; with `single_thread=True` (AlphaPose's `--sp`) the same generators run in one
thread and give the same results. Memory stays flat: at most `qsize` frames wait between two stages.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from posekit.detectors.base import Detector
from posekit.errors import PosekitError
from posekit.infer.detfile import DetectionFile
from posekit.infer.outputs import RenderedOutputs
from posekit.infer.sources import Frame, Source
from posekit.infer.threads import threaded
from posekit.pose.types import PoseModel
from posekit.types import PoseResult

FINISH_MESSAGE = "===========================> Finish Model Running."
RENDER_MESSAGE = "Rendering remaining images in the queue..."
VIS_FAST_HINT = (
    "If this step takes too long, you can enable the --vis_fast flag to use fast rendering (real-time)."
)
JSON_MESSAGE = "Results have been written to json."
STAGES = ("read", "detect", "pose", "nms", "track", "render")


@dataclass
class RunSummary:
    """What a run did: frames done, people found, unreadable inputs, timings and files written."""

    frames: int = 0
    people: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    results_path: Path | None = None
    video_path: Path | None = None

    @property
    def fps(self) -> float:
        """Frames per second over the whole run."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


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
    """Frames of `source` with detections and results filled in, in input order."""
    times = times if times is not None else defaultdict(float)

    def stage(items: Iterable[Frame], name: str) -> Iterable[Frame]:
        return items if single_thread else threaded(items, qsize, name)

    frames = stage(_timed(source.frames, times, "read"), "read")
    frames = stage(detect_stage(frames, detector, detbatch, times), "detect")
    return iter(stage(pose_stage(frames, pose_model, times, min_box_area, tracker, on_model_done), "pose"))


def run_inference(
    source: Source,
    detector: Detector | DetectionFile,
    pose_model: PoseModel,
    outdir: str | Path,
    *,
    outputs: RenderedOutputs | None = None,
    tracker=None,
    detbatch: int = 5,
    qsize: int = 32,
    single_thread: bool = False,
    min_box_area: float = 0.0,
    fmt: str | None = None,
    for_eval: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> RunSummary:
    """Run the whole pipeline on `source`, render, and write `outdir/alphapose-results.json`.

    Unreadable images are skipped with a warning and listed in the summary; Ctrl-C stops the run and
    still writes the results of the frames already done. Raises PosekitError only when no frame could
    be processed at all.
    """
    from posekit.io.results import write_results

    say = log or (lambda message: tqdm.write(message, file=sys.stdout))
    outputs = outputs or RenderedOutputs(outdir, save_img=False, save_video=False)
    times: dict[str, float] = defaultdict(float)
    summary = RunSummary()
    results: list[tuple[str, PoseResult]] = []

    def model_done() -> None:
        say(FINISH_MESSAGE)
        if outputs.active and not outputs.fast:
            say(RENDER_MESSAGE)
            say(VIS_FAST_HINT)

    started = time.perf_counter()
    stream = process(
        source,
        detector,
        pose_model,
        tracker=tracker,
        detbatch=detbatch,
        qsize=qsize,
        single_thread=single_thread,
        min_box_area=min_box_area,
        times=times,
        on_model_done=model_done,
    )
    bar = tqdm(total=source.total, unit="frame", desc="posekit", disable=not progress, dynamic_ncols=True)
    try:
        for frame in stream:
            if frame.image is None:
                summary.failed.append((frame.name, frame.error or "unreadable"))
                tqdm.write(f"warning: skipped {frame.error}", file=sys.stderr)
            else:
                start = time.perf_counter()
                outputs.write(frame)
                times["render"] += time.perf_counter() - start
                results.append((frame.name, frame.result))
                summary.people += len(frame.result)
            frame.image = None
            bar.update(1)
    except KeyboardInterrupt:
        summary.interrupted = True
    except BaseException:
        stream.close()
        outputs.abort()
        raise
    finally:
        bar.close()
    stream.close()
    summary.video_path = outputs.close()
    summary.frames = len(results)
    summary.seconds = time.perf_counter() - started
    summary.stage_seconds = {name: times.get(name, 0.0) for name in STAGES}
    if not results and not summary.interrupted:
        listed = "; ".join(error for _, error in summary.failed[:5])
        raise PosekitError(f"no input could be processed: {listed or 'the source gave no frames'}")
    summary.results_path = write_results(results, outdir, fmt=fmt, for_eval=for_eval)
    say(JSON_MESSAGE)
    return summary
