"""How much annotation work pre-labelling saves: `posekit annotate`'s points against the ground truth.

    python benchmarks/annotate.py [--detector blazepose] [--kpt-thr 0.4]

For coco-val-mini and the posetrack18-mini frames (PoseTrack's 17 points share 15 with COCO: not the
eyes), each ground-truth person is matched to a pre-labelled person (greedy, highest OKS first), and each
of its labelled keypoints is: confirmed (pre-labelled within the COCO OKS tolerance: keypoint similarity
exp(-d^2 / (2 s^2 k^2)) >= 0.5, the similarity an OKS-0.5 match needs on average), to move (pre-labelled
but further), or to add (not pre-labelled). Pre-labelled points on unlabelled joints or unmatched people
are to delete. Images/s is the pre-labelling speed (model included) on this machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devkit.shared_data import shared_data_root  # noqa: E402
from posekit.skeleton import KEYPOINT_NAMES, OKS_SIGMAS  # noqa: E402

SIGMA = dict(zip(KEYPOINT_NAMES, OKS_SIGMAS))
CONFIRMED_KS = 0.5


def cpu_model() -> str:
    """The CPU's model name (lscpu), else the platform's processor string."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        return next(
            line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")
        )
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def ground_truth(ann_path: Path) -> tuple[dict[str, list[tuple[dict[str, np.ndarray], float]]], list[str]]:
    """Per image file name: each annotated person's {joint name: (x, y, v)} and area; the joint names."""
    data = json.loads(ann_path.read_text())
    names = data["categories"][0]["keypoints"]
    files = {image["id"]: image["file_name"] for image in data["images"]}
    people: dict[str, list] = {name: [] for name in files.values()}
    for ann in data["annotations"]:
        if ann.get("iscrowd") or not any(ann["keypoints"][2::3]):
            continue
        kps = np.asarray(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
        area = ann.get("area") or ann["bbox"][2] * ann["bbox"][3] * 0.53  # PoseTrack has no area
        people[files[ann["image_id"]]].append(({n: kps[i] for i, n in enumerate(names) if n in SIGMA}, area))
    return people, names


def prelabels(labelme: Path) -> list[dict[str, np.ndarray]]:
    """Each pre-labelled person of a Labelme file: {joint name: (x, y)}."""
    shapes = json.loads(labelme.read_text())["shapes"]
    people: dict[int, dict[str, np.ndarray]] = {}
    for shape in shapes:
        if shape["shape_type"] == "point":
            people.setdefault(shape["group_id"], {})[shape["label"]] = np.asarray(shape["points"][0])
    return list(people.values())


def similarities(gt: dict[str, np.ndarray], area: float, pred: dict[str, np.ndarray]) -> dict[str, float]:
    """COCO's keypoint similarity of each labelled ground-truth joint (0 where not pre-labelled)."""
    out = {}
    for name, (x, y, v) in gt.items():
        if v > 0:
            if name in pred:
                d2 = float(((pred[name] - [x, y]) ** 2).sum())
                out[name] = float(np.exp(-d2 / (2 * (area + np.spacing(1)) * (2 * SIGMA[name]) ** 2)))
            else:
                out[name] = 0.0
    return out


def score_image(gt_people: list, predicted: list[dict[str, np.ndarray]]) -> dict[str, int]:
    """Confirmed / move / add / delete point counts of one image (greedy OKS matching)."""
    counts = dict(confirmed=0, move=0, add=0, delete=0, labelled=0)
    pairs = []
    for g, (gt, area) in enumerate(gt_people):
        for p, pred in enumerate(predicted):
            ks = similarities(gt, area, pred)
            pairs.append((float(np.mean(list(ks.values()))) if ks else 0.0, g, p, ks))
    used_g, used_p = set(), set()
    for oks, g, p, ks in sorted(pairs, key=lambda item: -item[0]):
        if oks <= 0 or g in used_g or p in used_p:
            continue
        used_g.add(g)
        used_p.add(p)
        for name, value in ks.items():
            key = "confirmed" if value >= CONFIRMED_KS else "move" if name in predicted[p] else "add"
            counts[key] += 1
        counts["delete"] += sum(1 for name in predicted[p] if name not in ks)
    for g, (gt, _) in enumerate(gt_people):
        labelled = sum(1 for (_, _, v) in gt.values() if v > 0)
        counts["labelled"] += labelled
        if g not in used_g:
            counts["add"] += labelled
    counts["delete"] += sum(len(pred) for p, pred in enumerate(predicted) if p not in used_p)
    return counts


def run_set(name: str, images: Path, ann_path: Path, model_flags: list[str]) -> None:
    gt, _ = ground_truth(ann_path)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "photos"
        work.mkdir()
        mapping = {}
        for k, file_name in enumerate(sorted(gt)):
            target = work / f"{k:04d}{Path(file_name).suffix}"
            target.symlink_to((images / file_name).resolve())
            mapping[file_name] = target
        out = Path(tmp) / "labelme"
        command = [sys.executable, "-m", "posekit", "annotate", "--indir", str(work), "--output", str(out)]
        start = time.perf_counter()
        subprocess.run([*command, *model_flags], check=True, capture_output=True)
        seconds = time.perf_counter() - start
        totals = dict(confirmed=0, move=0, add=0, delete=0, labelled=0)
        for file_name, people in gt.items():
            counts = score_image(people, prelabels(out / f"{mapping[file_name].stem}.json"))
            totals = {key: totals[key] + counts[key] for key in totals}
    persons = sum(len(p) for p in gt.values())
    share = totals["confirmed"] / max(totals["labelled"], 1)
    print(
        f"| {name} | {len(gt)} | {persons} | {totals['labelled']} | {share:.1%} | {totals['move']} | "
        f"{totals['add']} | {totals['delete']} | {len(gt) / seconds:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="blazepose")
    parser.add_argument("--kpt-thr", default="0.4")
    args, extra = parser.parse_known_args()
    root = shared_data_root()
    if root is None:
        raise SystemExit("../shared/data not found")
    flags = ["--detector", args.detector, "--kpt_thr", args.kpt_thr, *extra]
    print(f"CPU: {cpu_model()}; model flags: {' '.join(flags)} (images/s includes loading the model)")
    print("| set | images | people | labelled points | confirmed | to move | to add | to delete | images/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    coco = root / "coco-val-mini"
    run_set("coco-val-mini", coco / "val2017", coco / "annotations/person_keypoints_val2017.json", flags)
    track = root / "posetrack18-mini"
    run_set("posetrack18-mini", track, track / "annotations/test_posetrack18_val.json", flags)


if __name__ == "__main__":
    main()
