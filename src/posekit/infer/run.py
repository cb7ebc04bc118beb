"""One whole inference run: the stages (posekit.infer.stages), rendering, and the results json.

The calling thread renders each finished frame and hands its result to the results writer; nothing
per frame is kept once it is written.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from posekit.detectors.base import Detector
from posekit.errors import PosekitError
from posekit.infer.detfile import DetectionFile
from posekit.infer.outputs import RenderedOutputs
from posekit.infer.sources import Source
from posekit.infer.stages import STAGES, process
from posekit.pose.types import PoseModel
from posekit.types import PoseResult

FINISH_MESSAGE = "===========================> Finish Model Running."
RENDER_MESSAGE = "Rendering remaining images in the queue..."
VIS_FAST_HINT = (
    "If this step takes too long, you can enable the --vis_fast flag to use fast rendering (real-time)."
)
JSON_MESSAGE = "Results have been written to json."


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
