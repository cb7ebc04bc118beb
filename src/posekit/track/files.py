"""Tracking an image folder from a pose json, in PoseFlow's file formats.

In: AlphaPose's list json (alphapose-results.json: [{image_id, keypoints, score, box, idx}]) or
PoseFlow's dict form {imgname: [{keypoints, scores}]} (alphapose-results-forvis.json, written beside a
list input as tracker-general.py does, or into a folder given). Out: {imgname: [{keypoints, scores, idx}]}
with int ids, one key per frame (an empty list for a frame with nobody), plus optional drawn frames.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from posekit.errors import PosekitError, brief
from posekit.io.entries import field, finite_number, finite_numbers, keypoint_triplets
from posekit.io.images import list_images, natural_key
from posekit.io.jsonio import read_json
from posekit.types import PoseResult

FORVIS_NAME = "alphapose-results-forvis.json"


def read_pose_json(path: str | Path) -> tuple[dict[str, list[dict]], bool]:
    """Poses per image name from either format, and whether the file was AlphaPose's list form.

    Each person is {"keypoints": (K, 3) array, "score": float, "box": xywh list or None}.
    """
    path = Path(path)
    data = read_json(path, "pose json")
    people: dict[str, list[dict]] = {}
    if isinstance(data, list):
        for n, entry in enumerate(data):
            name = field(path, f"entry {n}", entry, "image_id")
            people.setdefault(str(name), []).append(
                _person(path, f"entry {n} (image {brief(name)})", entry, "score")
            )
        return people, True
    if isinstance(data, dict):
        for name, entries in data.items():
            if not isinstance(entries, list):
                raise PosekitError(f"{path}: value of {brief(name)} is not a list of people")
            people[str(name)] = [
                _person(path, f"person {k} of image {brief(name)}", e, "scores")
                for k, e in enumerate(entries)
            ]
        return people, False
    raise PosekitError(
        f"{path}: expected a list of results or a dict of image names, got {type(data).__name__}"
    )


def _person(path: Path, where: str, entry: object, score_key: str) -> dict:
    """One person of the json, checked (posekit.io.entries): keypoints are 3K finite numbers, box 4
    finite numbers or absent, score a finite number (0 when absent)."""
    kps = keypoint_triplets(path, where, entry, "keypoints")
    has_box = isinstance(entry, dict) and entry.get("box") is not None
    box = finite_numbers(path, where, entry, "box") if has_box else None
    score = finite_number(path, where, entry, score_key, default=0.0)
    return {"keypoints": kps, "score": score, "box": box}


def forvis(people: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """PoseFlow's untracked dict form {imgname: [{keypoints: [3K floats], scores: float}]}."""
    return {
        name: [{"keypoints": p["keypoints"].ravel().tolist(), "scores": p["score"]} for p in persons]
        for name, persons in people.items()
    }


def to_result(persons: list[dict], num_joints: int) -> PoseResult:
    """A PoseResult of json people; boxes from the json (xywh) or the keypoint extent."""
    if not persons:
        return PoseResult.empty(num_joints)
    kps = np.stack([p["keypoints"] for p in persons])
    boxes = []
    for p, k in zip(persons, kps):
        if p["box"] is not None:
            x, y, w, h = (float(v) for v in p["box"])
            boxes.append([x, y, x + w, y + h])
        else:
            boxes.append([k[:, 0].min(), k[:, 1].min(), k[:, 0].max(), k[:, 1].max()])
    scores = np.array([p["score"] for p in persons], dtype=np.float64)
    return PoseResult(
        boxes=np.asarray(boxes, dtype=np.float64),
        box_scores=np.ones(len(persons)),
        keypoints=kps[:, :, :2],
        keypoint_scores=kps[:, :, 2],
        scores=scores,
    )


def frame_order(
    imgdir: Path, people: dict[str, list[dict]], in_json: Path
) -> tuple[list[str], dict[str, Path]]:
    """All frame names (images of imgdir and names in the json) in natural order, and the image paths.

    Raises when the json names no image of imgdir (results of another folder); warns when only some
    are missing (those frames are still tracked, without image cues).
    """
    images = {p.name: p for p in list_images(imgdir)}
    missing = [name for name in people if Path(name).name not in images]
    if people and len(missing) == len(people):
        raise PosekitError(
            f"{in_json}: none of its {len(people)} image names is in {imgdir} (first: {missing[0]!r}); "
            "are these the results of another folder?"
        )
    if missing:
        print(
            f"warning: {in_json}: {len(missing)} image(s) not in {imgdir} (first: {missing[0]!r}); "
            "their people are tracked without image correspondences",
            file=sys.stderr,
        )
    names = {Path(n).name: n for n in people}
    for name in images:
        names.setdefault(name, name)
    order = sorted(names, key=natural_key)
    return [names[n] for n in order], {names[n]: images[n] for n in order if n in images}
