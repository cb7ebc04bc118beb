"""Tracking measured on detected poses: detection + pose + tracking end to end, by --det_interval.

    python benchmarks/track_e2e.py [--frames 40] [--intervals 1 3 5 10] [--tracker oks]
        [--detector blazepose|yolo11n-pose] [--pose default|detector] [--thorough-tiles 1.0 0.6 0.4]

Sequences (frames rendered into memory first, so drawing them is not timed):
- synthetic: devkit.synth.make_sequence (5 real COCO people walking across a real street, 1280x720,
  seed 0): the rendered frames are the input, its known ids and poses the ground truth;
- pan: devkit.synth.make_pan_sequence (a 1280x720 camera window panning over the annotated
  1920x1080 PoseTrack18 frame of posetrack18-mini, seed 0; people leave the view and come back).
Per sequence: the tracker on the ground-truth poses (with the synthetic jitter and misses, as
benchmarks/track.py) as the reference, then posekit.infer.stages.process with --detector (default the
BlazePose detector; yolo11n-pose the YOLO11n-pose checkpoint of the models cache) and --pose (default: the
BlazePose landmark model on its boxes; detector: a keypoint detector's own keypoints, one-stage, for which
the pipeline forces --det_interval 1) and the tracker at each --det_interval (the default detector's
thorough scan on the detection frames of intervals > 1 uses --thorough-tiles, default its own; give the
default tiles 1.0 0.6 0.4 to see the runs without it): people found
(recall = 1 - misses / people), MOTA, IDF1, ID switches (IoU >= 0.5 matching, devkit.track_metrics; on
the pan, outputs in PoseTrack's ignore regions, the unannotated spectators, that match nobody are not
counted), frames/s of the whole run and its CPU milliseconds per frame (all threads; steadier than
frames/s when other jobs share the cores).

Smoothing (--smooth, One-Euro): jitter = mean frame-to-frame motion of confident keypoints (score >= 0.5)
of each track, on a still clip: frame 0 of the posetrack18-mini video repeated, with fresh Gaussian
sensor noise (sigma 3 grey levels) per frame; lag = mean offset of the keypoints behind the ground truth
along the direction of motion on the pan sequence (people move at the pan's speed). The smoother is
applied to the tracked results after the run exactly as the pipeline applies it (its output is never
fed back), so one run gives every row of the parameter sweep (SMOOTHING, the defaults first). Prints
tables; nothing is asserted.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devkit.shared_data import shared_data_root  # noqa: E402
from devkit.synth import make_pan_sequence, make_sequence  # noqa: E402
from devkit.track_metrics import tracking_metrics  # noqa: E402
from posekit.detectors import build_detector  # noqa: E402
from posekit.families.blazepose.landmarks import BlazePoseLandmarkModel  # noqa: E402
from posekit.infer.sources import Frame, Source  # noqa: E402
from posekit.infer.stages import process  # noqa: E402
from posekit.infer.tracked import VideoOptions  # noqa: E402
from posekit.io.images import read_image_rgb  # noqa: E402
from posekit.one_euro import OneEuroParams  # noqa: E402
from posekit.pose.onestage import DetectorKeypoints  # noqa: E402
from posekit.track import build_tracker  # noqa: E402
from posekit.track.smoothing import TrackSmoother  # noqa: E402

CLIP_FRAME = "posetrack18-mini/videos/000001_mpiinew_test/000000.jpg"
SMOOTHING = [
    OneEuroParams(),  # the defaults
    OneEuroParams(1.0, 1.0, 1.0),
    OneEuroParams(0.5, 1.0, 1.0),
    OneEuroParams(2.0, 1.0, 1.0),
    OneEuroParams(1.0, 0.0, 1.0),
    OneEuroParams(1.0, 4.0, 1.0),
]


def cpu_line() -> str:
    """CPU model and whether it has AMX / AVX512-BF16."""
    model = platform.processor() or "unknown CPU"
    flags: set[str] = set()
    try:
        text = Path("/proc/cpuinfo").read_text()
        model = next((ln.split(":", 1)[1].strip() for ln in text.splitlines() if "model name" in ln), model)
        found = subprocess.run(
            ["grep", "-o", "-E", "amx_bf16|avx512_bf16", "/proc/cpuinfo"], capture_output=True, text=True
        )
        flags = set(found.stdout.split())
    except OSError:
        pass
    return f"CPU: {model}; AMX-BF16: {'amx_bf16' in flags}; AVX512-BF16: {'avx512_bf16' in flags}"


def source_of(images: list[np.ndarray], fps: float = 25.0) -> Source:
    """An in-memory video source of RGB frames."""
    frames = (Frame(i, f"{i}.jpg", im, timestamp=i / fps) for i, im in enumerate(images))
    return Source(frames, len(images), fps, "bench", is_video=True)


def run_pipeline(images, detector, model, tracker: str, interval: int) -> tuple[list, float, float]:
    """The tracked results of every frame, and the wall and CPU seconds (all threads) of the run."""
    start, start_cpu = time.perf_counter(), time.process_time()
    stream = process(
        source_of(images),
        detector,
        model,
        tracker=build_tracker(tracker),
        video=VideoOptions(det_interval=interval),
    )
    results = [frame.result for frame in stream]
    return results, time.perf_counter() - start, time.process_time() - start_cpu


def scores_row(
    label: str, gt, hyps, seconds: float | None = None, cpu: float | None = None, ignore=None
) -> str:
    m = tracking_metrics(gt, hyps, ignore_masks=ignore)
    recall = 1.0 - m["num_misses"] / max(m["num_objects"], 1.0)
    fps = f"{len(hyps) / seconds:8.2f} {1000 * cpu / len(hyps):8.0f}" if seconds else f"{'':>8} {'':>8}"
    return (
        f"{label:<44} {recall:7.3f} {m['mota']:7.3f} {m['idf1']:7.3f} {int(m['num_switches']):5d} "
        f"{int(m['num_false_positives']):5d} {fps}"
    )


def smoothed(results, params: OneEuroParams, fps: float = 25.0) -> list:
    smoother = TrackSmoother(params, fps)
    return [smoother(r, i / fps) for i, r in enumerate(results)]


def jitter(results, min_score: float = 0.5) -> float:
    """Mean frame-to-frame motion (px) of the confident keypoints of each track present in both frames."""
    motions = []
    for a, b in itertools.pairwise(results):
        where = {tid: n for n, tid in enumerate(a.ids)}
        for m, tid in enumerate(b.ids):
            if tid in where:
                n = where[tid]
                ok = (a.keypoint_scores[n] >= min_score) & (b.keypoint_scores[m] >= min_score)
                motions.extend(np.linalg.norm(b.keypoints[m][ok] - a.keypoints[n][ok], axis=1))
    return float(np.mean(motions)) if motions else float("nan")


def lag(results, gt, offsets, min_score: float = 0.5) -> tuple[float, float]:
    """Mean offset (px) behind the ground truth along the motion, and mean keypoint error (px): each
    detected person is paired with the ground-truth person of the highest box IoU (>= 0.5)."""
    from posekit.geometry import box_iou

    behind, error = [], []
    for t in range(1, len(results)):
        motion = -(np.subtract(offsets[t], offsets[t - 1])).astype(float)  # people move against the pan
        speed = np.linalg.norm(motion)
        r, g = results[t], gt[t]
        if speed < 1e-6 or not len(r) or not len(g):
            continue
        iou = box_iou(r.boxes, g.boxes)
        for n in range(len(r)):
            j = int(iou[n].argmax())
            if iou[n, j] < 0.5:
                continue
            ok = (r.keypoint_scores[n] >= min_score) & (g.keypoint_scores[j] > 0)
            diff = r.keypoints[n][ok] - g.keypoints[j][ok]
            behind.extend(-(diff @ (motion / speed)))
            error.extend(np.linalg.norm(diff, axis=1))
    return float(np.mean(behind)), float(np.mean(error))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--intervals", type=int, nargs="+", default=[1, 3, 5, 10])
    parser.add_argument("--thorough-tiles", type=float, nargs="+", default=None)
    parser.add_argument("--tracker", default="oks", choices=["oks", "poseflow"])
    parser.add_argument("--still-frames", type=int, default=30, help="0: skip the smoothing rows")
    parser.add_argument("--detector", default="blazepose", help="detector name, e.g. yolo11n-pose")
    parser.add_argument(
        "--pose",
        default="default",
        choices=["default", "detector"],
        help="default: BlazePose landmarks on the boxes; detector: the detector's own keypoints",
    )
    args = parser.parse_args()
    data = shared_data_root()
    if data is None:
        raise SystemExit("../shared/data not found")
    print(cpu_line())
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    options = {"thorough_tiles": tuple(args.thorough_tiles)} if args.thorough_tiles else {}
    detector = build_detector(args.detector, **options)
    model = BlazePoseLandmarkModel() if args.pose == "default" else DetectorKeypoints(detector.num_joints)
    print(f"detector {args.detector} {options or ''}, pose {args.pose}")
    sequences = {
        "synthetic": make_sequence(data / "coco-val-mini", num_frames=args.frames, seed=0),
        "pan": make_pan_sequence(data / "posetrack18-mini", num_frames=args.frames, seed=0),
    }
    header = f"{'run':<44} {'recall':>7} {'MOTA':>7} {'IDF1':>7} {'IDSW':>5} {'FP':>5}"
    header += f" {'frames/s':>8} {'CPU ms/f':>8}"
    tracked: dict[tuple[str, int], list] = {}
    for name, seq in sequences.items():
        images = list(seq.frames())
        h, w = images[0].shape[:2]
        print(f"\n{name}: {len(images)} frames {w}x{h}, tracker {args.tracker}")
        print(header)
        reference = build_tracker(args.tracker)
        gt_hyps = [reference.update(im, det) for im, det in zip(images, seq.detections)]
        ignore = seq.ignore_masks() if hasattr(seq, "ignore_masks") else None
        print(scores_row("ground-truth poses (reference)", seq.ground_truth, gt_hyps, None, ignore=ignore))
        for interval in args.intervals:
            hyps, seconds, cpu = run_pipeline(images, detector, model, args.tracker, interval)
            tracked[(name, interval)] = hyps
            label = f"{args.detector}+{args.pose} pose, --det_interval {interval}"
            print(scores_row(label, seq.ground_truth, hyps, seconds, cpu, ignore), flush=True)

    if args.still_frames > 0:
        smoothing_rows(args, data, sequences["pan"], tracked, detector, model)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


def smoothing_rows(args, data: Path, pan, tracked: dict, detector, model) -> None:
    """Jitter on the still clip and lag on the pan, for each --det_interval and smoothing setting."""
    print("\nsmoothing: jitter on the still clip, lag and keypoint error on the pan (px)")
    rng = np.random.default_rng(0)
    still = read_image_rgb(data / CLIP_FRAME)
    noisy = [
        np.clip(still + rng.normal(0, 3.0, still.shape), 0, 255).astype(np.uint8)
        for _ in range(args.still_frames)
    ]
    steps = np.linalg.norm(np.diff(np.array(pan.offsets, dtype=float), axis=0), axis=1)
    print(f"(the pan moves people {steps.mean():.1f} px a frame on average, {steps.max():.1f} at most)")
    print(f"{'run':<22} {'smoothing':<34} {'jitter':>7} {'lag':>7} {'error':>7}")
    for interval in args.intervals:
        hyps, _, _ = run_pipeline(noisy, detector, model, args.tracker, interval)
        moving = tracked[("pan", interval)]
        for params in [None, *SMOOTHING]:
            label = (
                "off"
                if params is None
                else (f"min_cutoff {params.min_cutoff}, beta {params.beta}, d {params.d_cutoff}")
            )
            still_hyps = hyps if params is None else smoothed(hyps, params)
            moved = moving if params is None else smoothed(moving, params)
            behind, error = lag(moved, pan.ground_truth, pan.offsets)
            print(
                f"{'--det_interval ' + str(interval):<22} {label:<34} {jitter(still_hyps):7.2f} "
                f"{behind:7.2f} {error:7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
