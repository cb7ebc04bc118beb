"""Resident memory of a long streamed run stays flat, results included: RSS at frame 100 and at the last.

    python benchmarks/stream_memory.py [--frames 10000] [--workdir /tmp/posekit-stream]

Makes a small video (160x120, the astronaut photo drifting across it, `--frames` frames) and runs
`Pipeline.run` over it, writing alphapose-results.json: the tiny FastPose (SE-ResNet-18 at 128x96,
seeded random weights sharpened so every person passes pose NMS) on the boxes of a detection file
(one person per frame, `--detfile` path), so the per-frame cost is small and every frame adds one
result to the json. Everything else is the real code path: the video reader, the threaded stages with
bounded queues, pose NMS, and the streaming results writer. The reader records the process RSS every
100 frames; the script prints RSS at frame 100 and at the last frame, the json's size and entry count.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

import posekit  # noqa: E402
from posekit.config import load_config  # noqa: E402
from posekit.infer.sources import Frame, Source, open_video  # noqa: E402
from posekit.io.images import read_image_rgb, sample_image_path  # noqa: E402
from posekit.io.video import VideoWriter  # noqa: E402
from posekit.models.builder import build_pose_model  # noqa: E402

TINY_CFG = REPO / "configs" / "tests" / "tiny_res18_128x96.yaml"
WIDTH, HEIGHT, PERSON = 160, 120, 100


def rss_mb() -> float:
    """Current resident memory of this process in MB (Linux /proc)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def cpu_line() -> str:
    """The CPU model and whether it has native bf16 (AMX / AVX512-BF16), from /proc/cpuinfo."""
    text = Path("/proc/cpuinfo").read_text()
    model = next(
        (line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?"
    )
    flags = sorted({f for f in ("amx_bf16", "avx512_bf16") if f in text.split()})
    return f"CPU: {model}; bf16 flags: {', '.join(flags) or 'none'}"


def make_video(path: Path, frames: int) -> list[list[float]]:
    """Write the drifting-astronaut video; returns each frame's person box [x, y, w, h]."""
    person = cv2.resize(read_image_rgb(sample_image_path()), (PERSON, PERSON), interpolation=cv2.INTER_AREA)
    boxes = []
    with VideoWriter(path, 25, WIDTH, HEIGHT) as writer:
        for k in range(frames):
            x = int((WIDTH - PERSON) * (0.5 + 0.5 * np.sin(k / 40)))
            image = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
            image[10 : 10 + PERSON, x : x + PERSON] = person
            writer.write(image)
            boxes.append([float(x), 10.0, float(PERSON), float(PERSON)])
    return boxes


def tiny_checkpoint(path: Path) -> Path:
    """The tiny FastPose with seeded random weights, output sharpened past pose NMS's score floor."""
    cfg = load_config(TINY_CFG)
    torch.manual_seed(0)
    model = build_pose_model(cfg.model, cfg.data_preset)
    with torch.no_grad():
        model.conv_out.weight.mul_(2e4)
    torch.save(model.state_dict(), path)
    return path


def sampled(source: Source, samples: dict[int, float]) -> Source:
    """`source` with the RSS recorded at frames 1, 100, 200, ... and at the last frame."""
    total = source.total or 0

    def frames():
        frame: Frame
        for frame in source.frames:
            number = frame.index + 1
            if number == 1 or number % 100 == 0 or number == total:
                samples[number] = rss_mb()
            yield frame

    return Source(frames(), source.total, source.fps, source.stem, source.is_video)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--workdir", default=None, help="where the video and outputs go (default: temp)")
    args = parser.parse_args()
    print(cpu_line())
    work = Path(args.workdir or tempfile.mkdtemp(prefix="posekit-stream-"))
    work.mkdir(parents=True, exist_ok=True)
    video = work / "drift.mp4"
    started = time.perf_counter()
    boxes = make_video(video, args.frames)
    detfile = work / "detections.json"
    detfile.write_text(json.dumps([{"image_id": k, "category_id": 1, "bbox": b, "score": 0.9}
                                   for k, b in enumerate(boxes)]))  # fmt: skip
    print(f"{args.frames} frames {WIDTH}x{HEIGHT} written in {time.perf_counter() - started:.0f} s: {video}")
    pipe = posekit.load(
        cfg=str(TINY_CFG),
        checkpoint=str(tiny_checkpoint(work / "tiny.pth")),
        detfile=str(detfile),
        device="cpu",
        outdir=str(work / "out"),
        save_img=False,
    )
    samples: dict[int, float] = {}
    summary = pipe.run(sampled(open_video(video), samples), progress=False, log=lambda m: None)
    results = json.loads((work / "out" / "alphapose-results.json").read_text())
    size_mb = (work / "out" / "alphapose-results.json").stat().st_size / 2**20
    print(f"{summary.frames} frames in {summary.seconds:.0f} s ({summary.fps:.1f} frames/s), "
          f"{len(results)} results in the json ({size_mb:.1f} MB)")  # fmt: skip
    last = max(samples)
    print(f"RSS at frame 100: {samples[100]:.1f} MB; at frame {last}: {samples[last]:.1f} MB "
          f"(difference {samples[last] - samples[100]:+.1f} MB)")  # fmt: skip
    trace = ", ".join(f"{k}:{samples[k]:.0f}" for k in sorted(samples)[:: max(1, len(samples) // 10)])
    print(f"RSS trace (frame:MB): {trace}")


if __name__ == "__main__":
    main()
