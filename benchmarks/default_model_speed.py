"""The default model, today's commit against this tree in the same run: frames/s and keypoint AP.

    git worktree add /tmp/posekit-old 572c836
    python benchmarks/default_model_speed.py --old /tmp/posekit-old [--runs 5] [--variants]

Each tree runs in its own subprocess (PYTHONPATH = that tree's src), the trees alternating, `--runs`
times; frames/s are medians over the runs. A run times the BlazePose detector + landmark model (one
thread of Python, LiteRT's own threads inside; the detector's detections passed to the pose model as the
pipeline does) on the 4 coco-val-mini images and the 5 frames of the posetrack18-mini mp4, and measures
keypoint AP (pycocotools via posekit.evaluate) end to end and on the GT boxes. `--variants` adds this
tree with each step of the speed-up switched off in turn. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MP4 = "posetrack18-mini/videos/000001_mpiinew_test/000001_mpiinew_test.mp4"
GT = "coco-val-mini/annotations/person_keypoints_val2017.json"
# label -> (detector options, pose model options[, detection fields passed on]), this tree only: each
# step of the speed-up undone in turn.
VARIANTS = {
    "one LiteRT thread": ({"num_threads": 1}, {"num_threads": 1}),
    "near-copy tiles kept (11 tiles a coco image, not 9)": ({"tile_slack": 0.0}, {}),
    "tile overlap 0.5, near-copies kept (19 tiles)": ({"tile_overlap": 0.5, "tile_slack": 0.0}, {}),
    "detector's pass on the 1.5x region (not MediaPipe's 1.25x)": ({"region_scale": 1.5}, {}),
    "detector's pass not reused (every pose pass again)": ({}, {}, ["rotations"]),
    "every pose pass on top of the detector's (doubtful=None)": ({}, {"doubtful": None}),
}


def _models(detector_options: dict, pose_options: dict):
    """The BlazePose detector and landmark model of whichever tree is on the path."""
    try:
        from posekit.families.blazepose import BlazePoseDetector, BlazePoseLandmarkModel
    except ImportError:  # today's commit
        from posekit.detectors.blazepose import BlazePoseDetector
        from posekit.pose.blazepose import BlazePoseLandmarkModel
    return BlazePoseDetector(**detector_options), BlazePoseLandmarkModel(**pose_options)


def _estimate(model, image, found, names=None):
    """Keypoints and scores of the pose model on the detections (only the fields `names` with the boxes,
    when given), in this tree's API or in that of a tree before typed detections (found.extras)."""
    if hasattr(found, "extras"):
        names = getattr(model, "detection_extras", ()) if names is None else names
        extras = {k: found.extras[k] for k in names if k in found.extras}
        return model.estimate(image, found.boxes, **extras)
    if names is not None:
        found = type(found)(found.boxes, found.scores, **{k: getattr(found, k) for k in names})
    poses = model.estimate(image, found)
    return poses.keypoints, poses.scores


def _entry(image_id: int, keypoints, scores, score: float) -> dict:
    import numpy as np

    flat = np.concatenate([keypoints, scores[:, None]], axis=1).reshape(-1)
    return {"image_id": image_id, "category_id": 1, "keypoints": flat.tolist(), "score": float(score)}


def worker(data: Path, detector_options: dict, pose_options: dict, fields=None, repeat: int = 2) -> dict:
    """One tree's numbers: frames/s on the images and the mp4 (best of `repeat`), AP end to end and on GT."""
    import numpy as np

    from posekit.evaluate.coco import evaluate_keypoints
    from posekit.io.images import read_image_rgb
    from posekit.io.video import read_frames

    gt = json.loads((data / GT).read_text())
    folder = data / "coco-val-mini" / "val2017"
    images = {im["id"]: read_image_rgb(folder / im["file_name"]) for im in gt["images"]}
    frames = [np.ascontiguousarray(f.image) for f in read_frames(data / MP4)]
    detector, model = _models(detector_options, pose_options)

    def run(batch):
        out = []
        start = time.perf_counter()
        for image in batch:
            found = detector.detect([image])[0]
            out.append((found, _estimate(model, image, found, fields)))
        return len(batch) / (time.perf_counter() - start), out

    run(frames[:1])  # warm-up
    fps_images = max(run(list(images.values()))[0] for _ in range(repeat))
    fps_video = max(run(frames)[0] for _ in range(repeat))
    _, outputs = run(list(images.values()))
    end_to_end = [
        _entry(image_id, keypoints[i], scores[i], found.scores[i] * scores[i].mean())
        for image_id, (found, (keypoints, scores)) in zip(images, outputs)
        for i in range(len(found))
    ]
    on_gt = []
    for ann in gt["annotations"]:
        if ann["num_keypoints"] > 0:
            x, y, w, h = ann["bbox"]
            keypoints, scores = model.estimate(images[ann["image_id"]], np.array([[x, y, x + w, y + h]]))
            on_gt.append(_entry(ann["image_id"], keypoints[0], scores[0], scores[0].mean()))
    return {
        "fps_images": fps_images,
        "fps_video": fps_video,
        "people": sum(len(found) for found, _ in outputs),
        "ap_end_to_end": evaluate_keypoints(data / GT, end_to_end)["AP"],
        "ap_gt_boxes": evaluate_keypoints(data / GT, on_gt)["AP"],
    }


def _spawn(tree: Path, data: Path, options: tuple, repeat: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    command = [sys.executable, __file__, "--worker", "--data", str(data), "--repeat", str(repeat)]
    command += ["--options", json.dumps(options)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{tree}: worker failed\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cpu() -> str:
    info = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in info.splitlines() if "model name" in line), "?")
    flags = sorted({f for f in ("amx_bf16", "avx512_bf16") if f in info.split()})
    return f"{model}, {os.cpu_count()} cores, {' '.join(flags) or 'no amx_bf16 / avx512_bf16'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, help="a checkout of today's commit (git worktree add)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2, help="timed passes per run (best kept)")
    parser.add_argument("--variants", action="store_true")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="[{}, {}]", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.data, *json.loads(args.options), repeat=args.repeat)))
        return
    cases = {"today (572c836)": (args.old, ({}, {}))} if args.old else {}
    cases["this tree"] = (REPO, ({}, {}))
    if args.variants:
        cases.update({f"this tree, {label}": (REPO, options) for label, options in VARIANTS.items()})
    runs: dict[str, list[dict]] = {label: [] for label in cases}
    for _ in range(args.runs):
        for label, (tree, options) in cases.items():
            runs[label].append(_spawn(tree, args.data, options, args.repeat))
    print(f"CPU: {_cpu()}; {args.runs} runs, medians\n")
    print("| code | frames/s, coco-val-mini images | frames/s, mp4 | people | AP end to end | AP, GT boxes |")
    print("|---|---|---|---|---|---|")
    base = runs[next(iter(runs))]
    base_images = statistics.median(r["fps_images"] for r in base)
    base_video = statistics.median(r["fps_video"] for r in base)
    for label, results in runs.items():
        images = statistics.median(r["fps_images"] for r in results)
        video = statistics.median(r["fps_video"] for r in results)
        last = results[-1]
        print(
            f"| {label} | {images:.2f} ({images / base_images:.1f}×) "
            f"| {video:.2f} ({video / base_video:.1f}×) "
            f"| {last['people']} | {last['ap_end_to_end']:.3f} | {last['ap_gt_boxes']:.3f} |"
        )


if __name__ == "__main__":
    main()
