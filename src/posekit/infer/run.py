"""One whole inference run: the stages (posekit.infer.stages), rendering, and the results json.

The calling thread renders each finished frame and hands its result to the results writer; nothing
per frame is kept once it is written.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from posekit.detectors.base import Detector
from posekit.errors import PosekitError
from posekit.infer.detfile import DetectionFile
from posekit.infer.options import OutputOptions, StreamOptions
from posekit.infer.outputs import RenderedOutputs
from posekit.infer.sources import Frame, Source
from posekit.infer.stages import STAGES, process
from posekit.infer.stopping import stop_signals_held
from posekit.infer.tracked import VideoOptions
from posekit.io.atomic import check_writable_folder
from posekit.io.results import RESULTS_FILE, ResultsWriter
from posekit.paths import check_apart, folder_lock
from posekit.pose.types import PoseModel
from posekit.track import Tracker

FINISH_MESSAGE = "===========================> Finish Model Running."
RENDER_MESSAGE = "Rendering remaining images in the queue..."
VIS_FAST_HINT = (
    "If this step takes too long, you can enable the --vis_fast flag to use fast rendering (real-time)."
)
JSON_MESSAGE = "Results have been written to json."
OUTPUT_LOCK = ".posekit-output.lock"
OUTPUT_BUSY = (
    "another posekit run (pid {pid}) is writing into this output folder; wait for it or choose another"
)


@dataclass
class RunSummary:
    """What a run did: frames done, people found, unreadable inputs, timings and files written (counts
    only: the results themselves are in the results file)."""

    frames: int = 0
    people: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    results_path: Path | None = None
    images_dir: Path | None = None
    video_path: Path | None = None

    @property
    def fps(self) -> float:
        """Frames per second over the whole run."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def run_inference(
    source: Source,
    detector: Detector | DetectionFile,
    pose_model: PoseModel,
    output: OutputOptions,
    *,
    stream: StreamOptions | None = None,
    outputs: RenderedOutputs | None = None,
    tracker: Tracker | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    video: VideoOptions | None = None,
) -> RunSummary:
    """Run the whole pipeline on `source` as `stream` says (default StreamOptions()), render as
    `output` says (or with `outputs`, a renderer of its own), and stream
    `output.outdir/alphapose-results.json` in `output.format`.

    The output folder is checked for writing before the first frame; nothing the run writes may hold or be one
    of the source's input files (posekit.paths.check_apart), and the folder is locked for the run (a
    second run into it fails with one line). Each finished frame is rendered and its people appended
    to the results file (a temp file, renamed into place at the end). Unreadable images are skipped
    with a warning and listed in the summary. Ctrl-C (or SIGTERM turned into it) stops the run and an
    error in a later frame ends it; either way the results of the frames done are written (the error is
    then raised as one PosekitError line), and the frames with a rendering in vis/ or the video are
    exactly the frames in the results. Raises PosekitError when no frame could be processed at all.
    """
    stream = stream or StreamOptions()
    outdir = check_writable_folder(output.outdir)
    outputs = outputs or RenderedOutputs.for_run(output, source, tracking=stream.tracking)
    detfile = (detector.path,) if isinstance(detector, DetectionFile) else ()
    check_apart(
        (*source.inputs, *detfile),
        trees=[Path(outdir) / name for name in ("vis", "sep-json", "poseflow")],
        files=[Path(outdir) / RESULTS_FILE, outputs.video_path],
    )
    with folder_lock(outdir, OUTPUT_LOCK, OUTPUT_BUSY):
        say = log or (lambda message: tqdm.write(message, file=sys.stdout))
        times: dict[str, float] = defaultdict(float)
        summary = RunSummary()

        def model_done() -> None:
            say(FINISH_MESSAGE)
            if outputs.active and not outputs.fast:
                say(RENDER_MESSAGE)
                say(VIS_FAST_HINT)

        started = time.perf_counter()
        writer = ResultsWriter(outdir, fmt=output.format, for_eval=output.for_eval)
        try:
            failure = _consume(
                process(
                    source,
                    detector,
                    pose_model,
                    tracker=tracker,
                    detbatch=stream.detbatch,
                    qsize=stream.qsize,
                    single_thread=stream.single_thread,
                    min_box_area=stream.min_box_area,
                    times=times,
                    on_model_done=model_done,
                    video=video,
                ),
                outputs,
                writer,
                summary,
                times,
                # progress: a bar on a terminal (tqdm's disable=None), none in a log file or a pipe
                tqdm(
                    total=source.total,
                    unit="frame",
                    desc="posekit",
                    disable=None if progress else True,
                    dynamic_ncols=True,
                ),
            )
            summary.video_path = _finish_video(outputs, failure)
            summary.seconds = time.perf_counter() - started
            summary.stage_seconds = {name: times.get(name, 0.0) for name in STAGES}
            if not summary.frames and not summary.interrupted:
                if isinstance(failure, OSError):  # e.g. the disk is full: one line, not a traceback
                    where = f"{failure.filename}: " if failure.filename else ""
                    raise PosekitError(
                        f"{where}stopped before any frame was finished: {failure.strerror or failure}"
                    ) from failure
                if failure is not None:
                    raise failure
                listed = "; ".join(error for _, error in summary.failed[:5])
                raise PosekitError(f"no input could be processed: {listed or 'the source gave no frames'}")
            summary.results_path = writer.close()
            summary.images_dir = outdir / "vis" if outputs.save_img and summary.frames else None
        except BaseException:
            outputs.abort()  # e.g. a second Ctrl-C while finishing: no partial video is left behind
            raise
        finally:
            writer.abort()  # only does something when the file was not closed
        say(JSON_MESSAGE)
        if failure is not None:
            first_line = (str(failure).strip().splitlines() or [type(failure).__name__])[0]
            raise PosekitError(
                f"stopped by an error after {summary.frames} frame(s): {first_line} "
                f"(the results of those frames are in {summary.results_path})"
            ) from failure
        return summary


def _consume(
    stream: Generator[Frame, None, None],
    outputs: RenderedOutputs,
    writer: ResultsWriter,
    summary: RunSummary,
    times: dict[str, float],
    bar: tqdm[Any],
) -> Exception | None:
    """Render and write each frame of `stream`; returns the exception that ended it early, if any
    (Ctrl-C only marks the summary as interrupted). A frame is written whole: Ctrl-C or SIGTERM while
    its results entry and rendering are written takes effect once both are."""
    failure: Exception | None = None
    try:
        for frame in stream:
            if frame.image is None or frame.result is None:  # result is set on every readable frame
                summary.failed.append((frame.name, frame.error or "unreadable"))
                tqdm.write(f"warning: skipped {frame.error}", file=sys.stderr)
            else:
                start = time.perf_counter()
                drawn = outputs.draw(frame)  # a stop while drawing leaves no trace of this frame
                with stop_signals_held():  # its results entry and its rendering: both or neither
                    writer.add(frame.name, frame.result)
                    outputs.save(frame, drawn)
                    summary.frames += 1
                    summary.people += len(frame.result)
                times["render"] += time.perf_counter() - start
            frame.image = frame.result = frame.detections = None
            bar.update(1)
    except KeyboardInterrupt:
        summary.interrupted = True
    except Exception as exc:
        failure = exc
    finally:
        bar.close()
        stream.close()
    return failure


def _finish_video(outputs: RenderedOutputs, failure: Exception | None) -> Path | None:
    """Close the rendered video with the frames done; if closing fails too, drop it (and raise, unless
    an earlier error is already being reported)."""
    try:
        return outputs.close()
    except Exception:
        outputs.abort()
        if failure is None:
            raise
        return None
