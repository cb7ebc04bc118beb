"""End-to-end inference speed with the embedded default model: frames/s, time per stage, peak memory.

    python benchmarks/infer.py [--repeat 5] [--long 300] [--outdir /tmp/posekit-bench]

Runs the pipeline (default detector + default pose model, rendering on) over the coco-val-mini images
and the posetrack18-mini mp4 from ../shared/data, threaded and with --sp, blended and --vis_fast
drawing; then a long synthetic video (the mp4's frames cycled `--long` times, 720p) to show that
resident memory stays flat. Numbers are printed as a table; nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import resource
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import posekit  # noqa: E402
from devkit.shared_data import shared_data_root  # noqa: E402
from posekit.infer.sources import Frame, Source, collect_image_paths, open_images, open_video  # noqa: E402
from posekit.infer.stages import STAGES  # noqa: E402
from posekit.io.video import read_frames  # noqa: E402

MP4 = "posetrack18-mini/videos/000001_mpiinew_test/000001_mpiinew_test.mp4"


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    """Peak resident memory so far in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_case(label, make_source, pipe, repeat, **options):
    """Run one case `repeat` times with `pipe` (options changed as given, the models shared); print
    frames/s, people, stage shares and peak memory."""
    frames = people = 0
    seconds = 0.0
    stages = dict.fromkeys(STAGES, 0.0)
    for _ in range(repeat):
        source = make_source()
        summary = pipe.with_options(save_video=source.is_video, **options).run(
            source, progress=False, log=lambda m: None
        )
        frames += summary.frames
        people += summary.people
        seconds += summary.seconds
        for key, value in summary.stage_seconds.items():
            stages[key] += value
    busy = sum(stages.values()) or 1.0
    shares = " ".join(f"{k} {100 * v / busy:4.1f}%" for k, v in stages.items())
    print(
        f"{label:<38} {frames:5d} frames {frames / seconds:6.2f} frames/s "
        f"{people / max(frames, 1):4.1f} people/frame | {shares} | peak RSS {peak_rss_mb():.0f} MB"
    )
    return frames / seconds


def long_video_source(path: Path, cycles: int, samples: list[tuple[int, float]]) -> Source:
    """The mp4's frames repeated `cycles` times as one long video; records (frame, RSS MB) every 25 frames."""
    base = [f.image for f in read_frames(path)]

    def frames():
        for index, image in enumerate(itertools.chain.from_iterable(itertools.repeat(base, cycles))):
            if index % 25 == 0:
                samples.append((index, rss_mb()))
            yield Frame(index, f"{index}.jpg", image.copy())

    return Source(frames(), len(base) * cycles, 30.0, "long", is_video=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per case (default 5)")
    parser.add_argument("--long", type=int, default=60, help="cycles of the 5-frame clip for the memory run")
    parser.add_argument("--outdir", default=None, help="where outputs go (default: a temp folder)")
    args = parser.parse_args()
    root = shared_data_root()
    if root is None:
        raise SystemExit("../shared/data not found")
    outdir = Path(args.outdir or tempfile.mkdtemp(prefix="posekit-bench-"))
    pipe = posekit.load(outdir=str(outdir))  # the default detector + pose model, loaded once
    images = collect_image_paths(str(root / "coco-val-mini" / "val2017"), None, None)
    video = root / MP4
    print(f"2-core CPU run, {args.repeat} repeats per case; outputs in {outdir}")
    run_case("warm-up", lambda: open_images(images), pipe, 1)
    for label, make, opts in [
        ("coco-val-mini images, threads", lambda: open_images(images), {}),
        ("coco-val-mini images, --sp", lambda: open_images(images), {"single_thread": True}),
        ("coco-val-mini images, threads, --vis_fast", lambda: open_images(images), {"vis_fast": True}),
        ("posetrack mp4 720p, threads", lambda: open_video(video), {}),
        ("posetrack mp4 720p, --sp", lambda: open_video(video), {"single_thread": True}),
        ("posetrack mp4 720p, threads, --vis_fast", lambda: open_video(video), {"vis_fast": True}),
    ]:
        run_case(label, make, pipe, args.repeat, **opts)
    gc.collect()
    samples: list[tuple[int, float]] = []
    start_rss = rss_mb()
    run_case(
        f"long video ({5 * args.long} frames 720p)",
        lambda: long_video_source(video, args.long, samples),
        pipe,
        1,
        vis_fast=True,
    )
    trace = ", ".join(f"{i}:{mb:.0f}" for i, mb in samples[:: max(1, len(samples) // 8)])
    print(f"RSS before {start_rss:.0f} MB; during the long run (frame:MB) {trace}")


if __name__ == "__main__":
    main()
