"""The default model on half-body framing against MediaPipe's own Pose, and its coco-val-mini AP.

    python benchmarks/blazepose_halfbody.py [--before GIT_REF]

For the code on the import path (and, with --before, for the posekit source of GIT_REF, unpacked from
git into a temporary folder and run in a subprocess, so both rows come from one run): the keypoint AP
end to end on coco-val-mini (pycocotools; person score = detection score x mean joint score, as
benchmarks/default_model.py), and on the 11 half-body images of tests/data/mediapipe_halfbody.json how
many people have every joint MediaPipe sees within 5 % of the person's size, and their face and
shoulders within 5 %. Sizes and matching as tests/test_blazepose_halfbody.py. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "data" / "mediapipe_halfbody.json"
COCO_LANDMARKS = [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]


def people(detector, pose, image: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keypoints, scores and detection scores as `posekit infer` gets them."""
    found = detector.detect([image])[0]
    poses = pose.estimate(image, found)
    return poses.keypoints, poses.scores, found.scores


def halfbody(detector, pose, root: Path) -> tuple[int, int, int, dict[str, float]]:
    """(people with every seen joint within 5 %, with face and shoulders within 5 %, cases, and per
    case the largest error of a seen joint in % of the person's size, inf when nobody is found)."""
    from skimage import data

    from posekit.io.images import read_image_rgb

    cases = json.loads(REFERENCE.read_text())["cases"]
    every = face = 0
    worst = {}
    for case in cases:
        source = case["source"]
        image = data.astronaut() if source == "skimage:astronaut" else read_image_rgb(root / source)
        x0, y0, x1, y1 = case["box"]
        image = np.ascontiguousarray(image[y0:y1, x0:x1])
        target = np.array(case["landmarks"])[COCO_LANDMARKS]
        x, y, visibility = target.T
        seen = (x >= 0) & (x < x1 - x0) & (y >= 0) & (y < y1 - y0) & (visibility >= 0.5)
        size = float((target[seen, :2].max(axis=0) - target[seen, :2].min(axis=0)).max())
        keypoints = people(detector, pose, image)[0]
        worst[case["name"]] = float("inf")
        if not len(keypoints):
            continue
        nearest = np.linalg.norm(keypoints[:, :7] - target[None, :7, :2], axis=2).mean(axis=1).argmin()
        errors = np.linalg.norm(keypoints[nearest] - target[:, :2], axis=1) / size
        every += bool(errors[seen].max() <= 0.05)
        face += bool(errors[:7][seen[:7]].max() <= 0.05)
        worst[case["name"]] = 100 * float(errors[seen].max())
    return every, face, len(cases), worst


def coco_ap(detector, pose, root: Path) -> float:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    from posekit.io.images import read_image_rgb

    folder = root / "coco-val-mini"
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(folder / "annotations" / "person_keypoints_val2017.json"))
    results = []
    for info in gt.dataset["images"]:
        keypoints, scores, found = people(
            detector, pose, read_image_rgb(folder / "val2017" / info["file_name"])
        )
        for i in range(len(keypoints)):
            flat = np.concatenate([keypoints[i], scores[i][:, None]], axis=1).reshape(-1).tolist()
            score = float(found[i] * scores[i].mean())
            results.append({"image_id": info["id"], "category_id": 1, "keypoints": flat, "score": score})
    with contextlib.redirect_stdout(io.StringIO()):
        evaluation = COCOeval(gt, gt.loadRes(results), "keypoints")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return float(evaluation.stats[0])


def measure(label: str, root: Path) -> None:
    """One table row per detector variant the code on the import path has."""
    from posekit.errors import PosekitError
    from posekit.families.blazepose import BlazePoseDetector, default_pose_model

    pose = default_pose_model()
    variants = {"default": {}, "sampling=mediapipe": {"sampling": "mediapipe"}}
    for name, options in variants.items():
        try:
            detector = BlazePoseDetector(**options)
        except PosekitError:  # an older posekit without the option
            continue
        every, face, cases, worst = halfbody(detector, pose, root)
        ap = coco_ap(detector, pose, root)
        print(f"| {label} | {name} | {ap:.3f} | {every}/{cases} | {face}/{cases} |", flush=True)
        cells = ", ".join(f"{case} {error:.1f}" for case, error in worst.items())
        print(f"<!-- {label}, {name}: largest joint error per case (% of size): {cells} -->", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", help="git ref whose src/posekit is measured first")
    parser.add_argument("--label", default="this tree", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from devkit.shared_data import shared_data_root

    root = shared_data_root()
    if root is None:
        raise SystemExit("../shared/data not found")
    if args.before:
        print(
            "| code | detector | coco-val-mini AP | half-body: every joint <= 5 % | face+shoulders <= 5 % |"
        )
        print("|---|---|---|---|---|", flush=True)
        with tempfile.TemporaryDirectory() as folder:
            archive = subprocess.run(
                ["git", "archive", args.before, "src"], cwd=REPO, capture_output=True, check=True
            )
            with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
                tar.extractall(folder, filter="data")
            env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(folder) / "src"), str(REPO)]))
            command = [sys.executable, __file__, "--label", args.before]
            subprocess.run(command, env=env, check=True)
    measure(args.label, root)


if __name__ == "__main__":
    main()
