"""Tracking speed and accuracy: PoseFlow (fast and seed ORB settings) and the OKS tracker.

    python benchmarks/track.py [--frames 100] [--seeds 0 1 2] [--no-pipeline]

The tracking step alone (poses given) on synthetic 1280x720 sequences of 5 real people (crossings,
occlusions, exits; see devkit.synth): frames/s of tracker.update only (frame rendering is not
timed) and MOTA / IDF1 / ID switches against the known ids. PoseFlow runs with its fast default ORB
(1000 features, frames downscaled x0.5, only around people) and with the seed's ORB (10000 features,
full frame, full resolution), which shows what the speed-up costs in accuracy. The same for both
trackers on real PoseTrack18 pixels and poses (60-frame 1280x720 pans over the annotated frame of
posetrack18-mini with its track ids; see devkit.synth.make_pan_sequence). Then the whole video
pipeline on the posetrack18-mini mp4 with the default model: `posekit infer --pose_flow` (when it runs)
and Pipeline.frames with each tracker (read, detect, pose, NMS, track). Prints a table;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devkit.shared_data import shared_data_root  # noqa: E402
from devkit.synth import make_pan_sequence, make_sequence  # noqa: E402
from devkit.track_metrics import tracking_metrics  # noqa: E402
from posekit.track import build_tracker  # noqa: E402
from posekit.track.poseflow import OrbCorrespondences, dm_iou, pose_boxes, pose_iou_dm  # noqa: E402

SEED_ORB = "poseflow (seed ORB: 10000 feat, full frame)"
CONFIGS = {
    "poseflow (fast ORB: 1000 feat, x0.5, people only)": ("poseflow", {}),
    "poseflow (1500 feat, x0.5, people only)": ("poseflow", {"orb_features": 1500}),
    "poseflow (1500 feat, full res, people only)": ("poseflow", {"orb_features": 1500, "orb_scale": 1.0}),
    SEED_ORB: (
        "poseflow",
        {"orb_features": 10000, "orb_scale": 1.0, "orb_regions": False},
    ),
    "oks": ("oks", {}),
}
MP4 = "posetrack18-mini/videos/000001_mpiinew_test/000001_mpiinew_test.mp4"


def run_tracker(name: str, options: dict, seq) -> tuple[float, float, list, float]:
    """Wall and CPU seconds spent in update(), the tracked results, and the mean ORB correspondences.

    CPU time (all threads of this process) is the fairer number when other jobs share the cores.
    """
    tracker = build_tracker(name, **options)
    wall, cpu, hyps, cors = 0.0, 0.0, [], []
    for frame, det in zip(seq.frames(), seq.detections):
        start, start_cpu = time.perf_counter(), time.process_time()
        hyps.append(tracker.update(frame, det))
        wall += time.perf_counter() - start
        cpu += time.process_time() - start_cpu
        if hasattr(tracker, "last_correspondences"):
            cors.append(len(tracker.last_correspondences))
    return wall, cpu, hyps, float(np.mean(cors)) if cors else float("nan")


def posetrack_rows(data: Path, seeds: list[int]) -> list[str]:
    """One row per tracker (default options): frames/s, MOTA, IDF1 and ID switches on the PoseTrack pans."""
    pans = [make_pan_sequence(data / "posetrack18-mini", seed=s) for s in seeds]
    frames = sum(len(seq) for seq in pans)
    rows = []
    for name in ("poseflow", "oks"):
        wall, mota, idf1, idsw = 0.0, [], [], 0
        for seq in pans:
            spent, _, hyps, _ = run_tracker(name, {}, seq)
            m = tracking_metrics(seq.ground_truth, hyps)
            wall += spent
            mota.append(m["mota"])
            idf1.append(m["idf1"])
            idsw += int(m["num_switches"])
        label = f"{name} (posetrack18-mini pan, {len(pans)} x 60 frames)"
        rows.append(
            f"{label:<52} {frames / wall:9.1f} {1000 * wall / frames:9.2f} {'':>7} {'':>6} "
            f"{np.mean(mota):6.3f} {np.mean(idf1):6.3f} {idsw:5d}"
        )
    return rows


def orb_term_difference(seq, frames: int = 40) -> tuple[float, float]:
    """Mean |difference| of PoseFlow's two ORB terms (dm_iou + pose_iou_dm, weight 1 each) between the
    fast and the seed ORB over all person pairs of consecutive frames, and the mean of those terms."""
    fast, seed = OrbCorrespondences(1000, 0.5), OrbCorrespondences(10000, 1.0)
    prev, diffs, values = None, [], []
    for t in range(min(frames, len(seq))):
        frame, det = seq.frame(t), seq.detections[t]
        valid = det.keypoint_scores > 0
        boxes = pose_boxes(det.keypoints, valid, frame.shape[1::-1])
        regions = np.concatenate([boxes, prev[3] if prev else boxes]) + np.array([-46, 46, -46, 46])
        now = (fast.features(frame, regions), seed.features(frame), det, boxes, valid)
        if prev is not None and len(det) and len(prev[2]):
            terms = []
            for orb, index in ((fast, 0), (seed, 1)):
                cors = orb.match(prev[index], now[index])
                terms.append(
                    dm_iou(cors, prev[3], boxes)
                    + pose_iou_dm(cors, prev[2].keypoints, prev[4], det.keypoints, valid, 7, 30.0)
                )
            diffs.append(np.abs(terms[0] - terms[1]).ravel())
            values.append(terms[1].ravel())
        prev = now
    return float(np.concatenate(diffs).mean()), float(np.concatenate(values).mean())


def pipeline_fps(data: Path) -> str:
    """frames/s of `posekit infer --video ... --pose_flow --save_video --vis_fast`, or why it did not run."""
    with tempfile.TemporaryDirectory() as outdir:
        cmd = [sys.executable, "-m", "posekit", "infer", "--video", str(data / MP4), "--outdir", outdir]
        proc = subprocess.run(
            [*cmd, "--save_video", "--pose_flow", "--vis_fast"], capture_output=True, text=True, cwd=REPO
        )
    found = re.search(r"\(([\d.]+) frames/s\)", proc.stdout)
    if proc.returncode == 0 and found:
        return f"{found.group(1)} frames/s (posetrack18-mini mp4, 1280x720, default model, --pose_flow)"
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return f"not available: {lines[-1] if lines else 'exit code ' + str(proc.returncode)}"


def pipeline_stages_fps(data: Path, repeat: int = 4) -> str:
    """frames/s of Pipeline.frames (read, detect, pose, NMS, track; no json or video writing) with the
    default model and each tracker over the mp4 (run once to warm up, then `repeat` times)."""
    from collections import defaultdict

    import posekit
    from posekit.infer.sources import open_video

    base = posekit.load()
    lines = []
    for name in ("poseflow", "oks"):
        pipe = base.with_options(tracker=name)
        times: dict[str, float] = defaultdict(float)
        frames, seconds = 0, 0.0
        for run in range(repeat + 1):  # run 0 warms up
            start = time.perf_counter()
            stream = pipe.frames(
                open_video(data / MP4), tracker=pipe.new_tracker(), times=times if run else None
            )
            done = sum(1 for _ in stream)
            if run:
                frames, seconds = frames + done, seconds + time.perf_counter() - start
        lines.append(
            f"{name}: {frames / seconds:.2f} frames/s, tracking {1000 * times['track'] / frames:.1f} ms/frame"
        )
    return "; ".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-pipeline", action="store_true", help="skip the whole-pipeline run")
    args = parser.parse_args()
    data = shared_data_root()
    if data is None:
        raise SystemExit("../shared/data not found")
    sequences = [make_sequence(data / "coco-val-mini", num_frames=args.frames, seed=s) for s in args.seeds]
    frames = sum(len(s) for s in sequences)
    people = np.mean([len(d) for s in sequences for d in s.detections])
    print(
        f"{len(sequences)} sequence(s) x {args.frames} frames, 1280x720, {people:.2f} people/frame on average"
    )
    print(
        f"{'tracker':<52} {'frames/s':>9} {'ms/frame':>9} {'cpu ms':>7} {'cors':>6} {'MOTA':>6} {'IDF1':>6} "
        f"{'IDSW':>5}"
    )
    ids: dict[str, list] = {}
    for label, (name, options) in CONFIGS.items():
        wall, cpu, mota, idf1, idsw, cors = 0.0, 0.0, [], [], 0, []
        ids[label] = []
        for seq in sequences:
            spent, spent_cpu, hyps, mean_cors = run_tracker(name, options, seq)
            m = tracking_metrics(seq.ground_truth, hyps)
            wall += spent
            cpu += spent_cpu
            mota.append(m["mota"])
            idf1.append(m["idf1"])
            idsw += int(m["num_switches"])
            cors.append(mean_cors)
            ids[label] += [h.ids for h in hyps]
        print(
            f"{label:<52} {frames / wall:9.1f} {1000 * wall / frames:9.2f} {1000 * cpu / frames:7.2f} "
            f"{np.mean(cors):6.0f} {np.mean(mota):6.3f} {np.mean(idf1):6.3f} {idsw:5d}"
        )
    for row in posetrack_rows(data, args.seeds):
        print(row)
    print(f"(load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    seed_ids = ids[SEED_ORB]
    for label in list(CONFIGS)[:3]:
        same = np.mean([a == b for a, b in zip(ids[label], seed_ids)])
        print(f"{label}: same ids as with the seed ORB in {100 * same:.1f} % of frames")
    diff, mean = orb_term_difference(sequences[0])
    print(
        f"ORB terms (dm_iou + pose_iou_dm), fast vs seed ORB: mean |difference| {diff:.3f} "
        f"(mean value {mean:.3f})"
    )
    if not args.no_pipeline:
        print("whole video pipeline (posekit infer):", pipeline_fps(data))
        print("pipeline stages (1280x720 mp4, default model):", pipeline_stages_fps(data))


if __name__ == "__main__":
    main()
