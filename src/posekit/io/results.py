"""AlphaPose's results json (`alphapose-results.json`), its `--format cmu|open` variants, and reading.

The default format holds every joint of any keypoint set; cmu/open hold OpenPose's 18 body joints and
need a set that starts with COCO's 17 (COCO-17, Halpe-26/136/68, COCO-WholeBody-133).

One writer for demo, validation and tracking: a JSON list with one entry per person, keys in order
image_id, category_id, keypoints (x, y, score per joint), score, box ([x, y, w, h]), idx; streamed to
disk image by image (ResultsWriter). `posekit track` writes PoseFlow's tracked form through it
(TRACKED_FORMAT: {image name: [{keypoints, scores, idx}]}, every frame).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from posekit.errors import PosekitError, brief
from posekit.io.atomic import AtomicTextFile, atomic_write_json
from posekit.io.entries import field, finite_number, keypoint_triplets
from posekit.io.jsonio import read_json
from posekit.io.outnames import OutputNames
from posekit.skeleton import KEYPOINT_NAMES, set_for_joints
from posekit.types import PoseResult

RESULTS_FILE = "alphapose-results.json"
OPENPOSE_VERSION = "AlphaPose v0.3"
TRACKED_FORMAT = "poseflow"  # {image name: [{keypoints, scores, idx: int}]}, a key for every frame
# OpenPose-18 order from the 54-float COCO-17 + neck array: flat indices of each joint's x.
OPENPOSE_ORDER = [0, 51, 18, 24, 30, 15, 21, 27, 36, 42, 48, 33, 39, 45, 6, 3, 12, 9]


def eval_image_id(image_name: str) -> int:
    """The integer image id of a file name (AlphaPose --eval): '000000000785.jpg' -> 785."""
    stem = Path(image_name).name.split(".")[0].split("_")[-1]
    if not re.fullmatch(r"\d+", stem):
        raise PosekitError(f"{image_name}: --eval needs numeric image file names (e.g. 000000000785.jpg)")
    return int(stem)


def _idx(value) -> object:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer | np.floating):
        return value.item()
    if isinstance(value, list):
        return [_idx(v) for v in value]
    return value


def person_idx(result: PoseResult, i: int) -> int | list[int]:
    """AlphaPose's "idx" of person i: the track id, else the detection indices pose NMS merged into the
    person, else 0."""
    if i < len(result.ids):
        return result.ids[i]
    if i < len(result.merged):
        return result.merged[i]
    return 0


def result_entries(
    image_name: str, result: PoseResult, for_eval: bool = False, image_id: int | None = None
) -> list[dict]:
    """The people of one image as AlphaPose result entries; image_id: the ground truth's id (validation)
    instead of the file name (or, for_eval, the number in it)."""
    named: int | str = image_id if image_id is not None else Path(image_name).name
    if image_id is None and for_eval:
        named = eval_image_id(image_name)
    entries = []
    for i in range(len(result)):
        x1, y1, x2, y2 = (float(v) for v in result.boxes[i])
        flat = np.concatenate([result.keypoints[i], result.keypoint_scores[i][:, None]], axis=1).ravel()
        entries.append(
            {
                "image_id": named,
                "category_id": 1,
                "keypoints": [float(v) for v in flat],
                "score": float(result.scores[i]),
                "box": [x1, y1, x2 - x1, y2 - y1],
                "idx": _idx(person_idx(result, i)),
            }
        )
    return entries


def tracked_entries(result: PoseResult) -> list[dict]:
    """The people of one tracked frame in PoseFlow's form: [{keypoints: [x, y, s, ...], scores, idx: int}]."""
    out = []
    for i in range(len(result)):
        kps = np.concatenate([result.keypoints[i], result.keypoint_scores[i][:, None]], axis=1)
        out.append(
            {"keypoints": kps.ravel().tolist(), "scores": float(result.scores[i]), "idx": int(result.ids[i])}
        )
    return out


def openpose_people(result: PoseResult) -> list[list[float]]:
    """Each person as 54 floats in OpenPose-18 order: COCO's 17 body joints (the first 17 of COCO-17,
    Halpe and COCO-WholeBody sets) and a neck (the set's own, else the mean of the shoulders)."""
    if len(result) == 0:
        return []
    kset = set_for_joints(result.keypoints.shape[1])
    if kset.names[:17] != KEYPOINT_NAMES:
        raise PosekitError(
            f"--format cmu/open writes OpenPose's 18 body joints: it needs COCO's 17 body joints first "
            f"(COCO-17, Halpe, COCO-WholeBody), not this {kset.num_joints}-joint set; use the default format"
        )
    neck_index = kset.index.get("neck")
    people = []
    for i in range(len(result)):
        xy, s = result.keypoints[i], result.keypoint_scores[i]
        if neck_index is None:
            neck = np.array([*(xy[5] + xy[6]) / 2, (s[5] + s[6]) / 2])
        else:
            neck = np.array([*xy[neck_index], s[neck_index]])
        flat = np.concatenate([np.concatenate([xy[:17], s[:17, None]], axis=1).ravel(), neck])
        people.append([float(v) for j in OPENPOSE_ORDER for v in flat[j : j + 3]])
    return people


def frame_is_written(result: PoseResult) -> bool:
    """Whether a frame gets an entry in any format: as AlphaPose, only a frame with people does (a
    cmu/open key and its sep-json file are made by the frame's first person; the list has no rows)."""
    return len(result) > 0


class ResultsWriter:
    """Writes a results json as images finish, never holding more than one image's entries.

    The JSON goes to a temp file beside `out_dir/file_name` (the final name never holds a partial file);
    close() ends the list (or, for cmu/open and TRACKED_FORMAT, the object keyed by image name) and
    renames it into place, abort() drops it. cmu/open also write `sep-json/<stem>.json` per image as it
    comes (a name another image took first gets `<name>.json`, posekit.io.outnames); TRACKED_FORMAT
    keys every frame by its name as given, people or not. As a context manager it closes on success and
    aborts on an exception.
    """

    def __init__(
        self,
        out_dir: str | Path,
        fmt: str | None = None,
        for_eval: bool = False,
        file_name: str = RESULTS_FILE,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / file_name
        self.openpose = fmt in ("cmu", "open")
        self.tracked = fmt == TRACKED_FORMAT
        self.keys = ("bodies", "joints") if fmt == "cmu" else ("people", "pose_keypoints_2d")
        self.for_eval = for_eval
        self.images = 0
        self._items = 0
        self._sep_names = OutputNames()
        self._file = AtomicTextFile(self.path)
        self._file.write("{" if self.openpose or self.tracked else "[")

    def add(self, image_name: str, result: PoseResult) -> None:
        """Append the people of one image (a frame without people gets no entry, as AlphaPose, except
        in TRACKED_FORMAT)."""
        self.images += 1
        if self.tracked:
            self._append(f"{json.dumps(image_name)}: {json.dumps(tracked_entries(result))}")
            return
        if not frame_is_written(result):
            return
        if self.openpose:
            key, joint_key = self.keys
            name = Path(image_name).name
            document = {
                "version": OPENPOSE_VERSION,
                key: [{joint_key: person} for person in openpose_people(result)],
            }
            atomic_write_json(self.out_dir / "sep-json" / self._sep_names.take(name, ".json"), document)
            self._append(f"{json.dumps(name)}: {json.dumps(document)}")
        else:
            self._append(", ".join(json.dumps(e) for e in result_entries(image_name, result, self.for_eval)))

    def _append(self, text: str) -> None:
        """Add one image's entries in one write: a full disk leaves whole images only."""
        self._file.write(", " + text if self._items else text)
        self._items += 1

    def close(self) -> Path:
        """End the JSON and move it to its final name; returns that path."""
        self._file.write("}" if self.openpose or self.tracked else "]")
        return self._file.commit()

    def abort(self) -> None:
        """Remove the partial file (nothing happens after close)."""
        self._file.discard()

    def __enter__(self) -> ResultsWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_results(
    items: Iterable[tuple[str, PoseResult]],
    out_dir: str | Path,
    fmt: str | None = None,
    for_eval: bool = False,
    file_name: str = RESULTS_FILE,
) -> Path:
    """Write results of every image to out_dir/file_name atomically; cmu/open also write sep-json/."""
    with ResultsWriter(out_dir, fmt, for_eval, file_name) as writer:
        for name, result in items:
            writer.add(name, result)
    return writer.path


def read_results(path: str | Path) -> list[dict]:
    """Read an AlphaPose/COCO results list, every entry checked by check_results."""
    return check_results(read_json(path, "results file"), path)


def check_results(data: object, source: str | Path) -> list[dict]:
    """`data` when it is a results list whose every entry has an image_id, 3K finite keypoint values
    and a finite score; else a PosekitError naming the source and the first bad entry."""
    if not isinstance(data, list):
        raise PosekitError(
            f"{source}: expected a list of results with 'keypoints' (AlphaPose/COCO format), "
            f"got {type(data).__name__}"
        )
    for n, entry in enumerate(data):
        field(source, f"entry {n}", entry, "image_id")
        where = f"entry {n} (image {brief(entry['image_id'])})"
        keypoint_triplets(source, where, entry)
        finite_number(source, where, entry, "score")
    return data
