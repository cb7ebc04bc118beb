"""Tracking an image folder from a pose json, in PoseFlow's file formats.

In: AlphaPose's list json (alphapose-results.json: [{image_id, keypoints, score, box, idx}]) or
PoseFlow's dict form {imgname: [{keypoints, scores}]} (alphapose-results-forvis.json, written beside a
list input as tracker-general.py does, or into a folder given). Out: {imgname: [{keypoints, scores, idx}]}
with int ids, one key per frame (an empty list for a frame with nobody), plus optional drawn frames.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from posekit.errors import PosekitError
from posekit.io.images import list_images, natural_key
from posekit.types import PoseResult

FORVIS_NAME = "alphapose-results-forvis.json"


def read_pose_json(path: str | Path) -> tuple[dict[str, list[dict]], bool]:
    """Poses per image name from either format, and whether the file was AlphaPose's list form.

    Each person is {"keypoints": (K, 3) array, "score": float, "box": xywh list or None}.
    """
    path = Path(path)
    if not path.is_file():
        raise PosekitError(f"{path}: pose json not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PosekitError(f"{path}: not a json file ({exc})") from None
    people: dict[str, list[dict]] = {}
    if isinstance(data, list):
        for n, entry in enumerate(data):
            name = _field(path, f"entry {n}", entry, "image_id")
            people.setdefault(str(name), []).append(
                _person(path, f"entry {n} (image {name!r})", entry, "score")
            )
        return people, True
    if isinstance(data, dict):
        for name, entries in data.items():
            if not isinstance(entries, list):
                raise PosekitError(f"{path}: value of {name!r} is not a list of people")
            people[str(name)] = [
                _person(path, f"person {k} of image {name!r}", e, "scores") for k, e in enumerate(entries)
            ]
        return people, False
    raise PosekitError(
        f"{path}: expected a list of results or a dict of image names, got {type(data).__name__}"
    )


def _field(path: Path, where: str, entry: object, key: str) -> object:
    """entry[key], or a PosekitError naming the file and the entry when entry is no object with it."""
    if not isinstance(entry, dict):
        raise PosekitError(f"{path}: {where} is not an object with {key!r} (got {type(entry).__name__})")
    if key not in entry:
        raise PosekitError(f"{path}: {where} has no {key!r}")
    return entry[key]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _person(path: Path, where: str, entry: object, score_key: str) -> dict:
    """One person of the json, checked: keypoints are 3K numbers, box 4 numbers or absent, score a number."""
    raw = _field(path, where, entry, "keypoints")
    try:
        kps = np.asarray(raw, dtype=np.float64).ravel()
        numbers = bool(np.isfinite(kps).all())
    except (TypeError, ValueError):
        numbers = False
    if not numbers:
        raise PosekitError(f"{path}: {where} has keypoints that are not a list of numbers")
    if kps.size == 0 or kps.size % 3:
        raise PosekitError(f"{path}: {where} has {kps.size} keypoint values, not a multiple of 3")
    box = entry.get("box")
    if box is not None and not (isinstance(box, list) and len(box) == 4 and all(map(_is_number, box))):
        raise PosekitError(f"{path}: {where} has box {box!r}, expected [x, y, w, h] numbers")
    score = entry.get(score_key, 0.0)
    if not _is_number(score):
        raise PosekitError(f"{path}: {where} has {score_key} {score!r}, expected a number")
    return {"keypoints": kps.reshape(-1, 3), "score": float(score), "box": box}


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


def tracked_entries(result: PoseResult) -> list[dict]:
    """The output entries of one frame: [{keypoints: [x, y, s, ...], scores, idx: int}]."""
    out = []
    for i in range(len(result)):
        kps = np.concatenate([result.keypoints[i], result.keypoint_scores[i][:, None]], axis=1)
        out.append(
            {"keypoints": kps.ravel().tolist(), "scores": float(result.scores[i]), "idx": int(result.ids[i])}
        )
    return out


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
