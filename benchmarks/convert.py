"""Labelme -> COCO conversion speed: files/s for N generated files, without and with image output.

Run by hand: `python benchmarks/convert.py [--count 2000] [--repeat 3]`.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from posekit.convert import convert_labelme
from posekit.convert.sample import write_sample_labelme


def best_rate(input_dir: Path, output_dir: Path, repeat: int, images: bool) -> tuple[float, int]:
    """Best files/s over `repeat` full conversions, and the number of files converted."""
    best = 0.0
    converted = 0
    for _ in range(repeat):
        start = time.perf_counter()
        summary = convert_labelme(input_dir, output_dir, ratio=0.2, seed=0, images=images)
        elapsed = time.perf_counter() - start
        converted = len(summary.converted)
        best = max(best, converted / elapsed)
    return best, converted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="number of Labelme files (default: 2000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode, best is reported (default: 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        input_dir, output_dir = Path(tmp) / "labelme", Path(tmp) / "out"
        start = time.perf_counter()
        write_sample_labelme(input_dir, count=args.count, seed=0)
        took = time.perf_counter() - start
        print(f"generated {args.count} Labelme files (1-3 people, 320x240 jpg/png) in {took:.1f} s")
        for images, label in (
            (False, "annotations only (no image output)"),
            (True, "with images (hard links)"),
        ):
            rate, converted = best_rate(input_dir, output_dir, args.repeat, images)
            print(f"{label:40s} {rate:8.0f} files/s  ({converted} files, best of {args.repeat})")


if __name__ == "__main__":
    main()
