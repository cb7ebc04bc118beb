"""`posekit batch` against a plain loop of `posekit infer` processes over the same inputs, on this machine.

    python benchmarks/batch.py [--units 20] [--workers 1 2]

The inputs: `--units` copies of the posetrack18-mini clip (5 frames, 1920x1080) and of coco-val-mini's
photos folder (4 images), alternating. For the loop and for each worker count: wall seconds, units/s,
frames/s, CPU use (busy CPU seconds of the whole machine / (wall x cores), from /proc/stat, so run it on
an idle machine), and for the batch its start-up (Ray + loading the models) and Ray's overhead per unit
(wall after start-up x workers - the seconds the workers spent inside units, per unit).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.annotate import cpu_model  # noqa: E402
from devkit.shared_data import shared_data_root  # noqa: E402


def busy_and_total() -> tuple[float, float]:
    """Busy and total CPU seconds of the whole machine so far (/proc/stat)."""
    fields = [float(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]
    return (sum(fields) - idle) / tick, sum(fields) / tick


def make_inputs(root: Path, count: int) -> list[Path]:
    data = shared_data_root()
    if data is None:
        raise SystemExit("../shared/data not found")
    clip = data / "posetrack18-mini/videos/000001_mpiinew_test/000001_mpiinew_test.mp4"
    photos = data / "coco-val-mini/val2017"
    units = []
    for k in range(count):
        if k % 2 == 0:
            target = root / f"clip_{k:03d}.mp4"
            shutil.copy(clip, target)
        else:
            target = root / f"photos_{k:03d}"
            shutil.copytree(photos, target)
        units.append(target)
    return units


def measured(run) -> dict[str, float]:
    busy0, _ = busy_and_total()
    start = time.perf_counter()
    extra = run()
    wall = time.perf_counter() - start
    busy1, _ = busy_and_total()
    return {"wall": wall, "cpu_use": (busy1 - busy0) / (wall * (os.cpu_count() or 1)), **(extra or {})}


def plain_loop(units: list[Path], out: Path) -> dict[str, float]:
    for unit in units:
        flag = "--video" if unit.suffix == ".mp4" else "--indir"
        command = [
            sys.executable,
            "-m",
            "posekit",
            "infer",
            flag,
            str(unit),
            "--outdir",
            str(out / unit.name),
        ]
        subprocess.run(command, check=True, capture_output=True)
    return {}


def batch(units: list[Path], out: Path, workers: int) -> dict[str, float]:
    import posekit

    summary = posekit.batch(units, out, workers=workers)
    assert summary.ok, summary.failed
    lines = [json.loads(line) for line in (out / "batch.jsonl").read_text().splitlines()]
    inside = sum(entry.get("seconds", 0.0) for entry in lines)
    running = summary.seconds - summary.startup_seconds
    return {"inside_units": inside, "startup": summary.startup_seconds,
            "overhead": (running * workers - inside) / len(units)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    cores = os.cpu_count()
    print(f"CPU: {cpu_model()}, {cores} cores; {args.units} units (half 5-frame clips, half 4-photo folders)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "in").mkdir()
        units = make_inputs(root / "in", args.units)
        frames = sum(5 if u.suffix == ".mp4" else 4 for u in units)
        rows = [("loop of posekit infer processes", measured(lambda: plain_loop(units, root / "loop")))]
        for workers in args.workers:
            out = root / f"batch{workers}"
            rows.append(
                (f"posekit batch --workers {workers}", measured(lambda w=workers, o=out: batch(units, o, w)))
            )
    print("| run | wall s | units/s | frames/s | CPU use | start-up s | Ray overhead s/unit |")
    print("|---|---|---|---|---|---|---|")
    for name, row in rows:
        startup = f"{row['startup']:.1f}" if "startup" in row else "—"
        overhead = f"{row['overhead']:.2f}" if "overhead" in row else "—"
        print(
            f"| {name} | {row['wall']:.1f} | {args.units / row['wall']:.2f} | {frames / row['wall']:.2f} | "
            f"{row['cpu_use']:.2f} | {startup} | {overhead} |"
        )


if __name__ == "__main__":
    main()
