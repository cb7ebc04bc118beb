"""Two numbers of the hardening pass: frames read from a video with garbage over its middle, and the time
of the inputs-vs-outputs check (posekit.paths.check_apart) over many input files.

    python benchmarks/hardening.py [--frames 300] [--inputs 10000]

The video (320x240 H.264, seeded noise rolled 3 pixels a frame) is written with posekit's VideoWriter
into a temp folder; seeded random bytes overwrite 3,000 bytes at 40 % and 200 bytes at 50 % of the file,
and the frames read_frames yields are counted. The check is timed once over that many empty .jpg files
against infer's outputs (vis/, sep-json/, poseflow/, the results json). Prints lines; nothing asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from posekit.io.video import VideoWriter, read_frames
from posekit.paths import check_apart


def damaged_video_frames(folder: Path, frames: int) -> None:
    """Print the frames read from the video with garbage at 40 % and at 50 %."""
    clean = folder / "clean.mp4"
    base = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    with VideoWriter(clean, 25, 320, 240) as writer:
        for k in range(frames):
            writer.write(np.roll(base, 3 * k, axis=1))
    data = clean.read_bytes()
    for fraction, length in ((0.4, 3000), (0.5, 200)):
        damaged = bytearray(data)
        start = int(len(damaged) * fraction)
        damaged[start : start + length] = (
            np.random.default_rng(1).integers(0, 256, length, np.uint8).tobytes()
        )
        path = folder / "damaged.mp4"
        path.write_bytes(bytes(damaged))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            count = sum(1 for _ in read_frames(path))
        print(
            f"{length} bytes of garbage at {fraction:.0%} of {len(data)} bytes: "
            f"{count} of {frames} frames read"
        )


def check_apart_seconds(folder: Path, inputs: int) -> None:
    """Print the time of one check_apart over `inputs` files."""
    (folder / "in").mkdir()
    paths = [folder / "in" / f"{k:06d}.jpg" for k in range(inputs)]
    for path in paths:
        path.touch()
    out = folder / "out"
    start = time.perf_counter()
    check_apart(paths, trees=[out / "vis", out / "sep-json", out / "poseflow"], files=[out / "r.json"])
    print(f"check_apart over {inputs} inputs: {time.perf_counter() - start:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--inputs", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        damaged_video_frames(Path(tmp), args.frames)
        check_apart_seconds(Path(tmp), args.inputs)


if __name__ == "__main__":
    main()
