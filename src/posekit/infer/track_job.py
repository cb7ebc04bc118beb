"""The `posekit track` job (and the seed's tracker-general.py): a folder of frames and a results json in,
the tracked json out, optionally each frame drawn with its ids (so it sits above track and render)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from tqdm import tqdm

from posekit.errors import PosekitError
from posekit.infer.outputs import RenderingNames
from posekit.io.atomic import atomic_write_json
from posekit.io.images import read_image_rgb, write_image_bgr
from posekit.io.results import TRACKED_FORMAT, ResultsWriter
from posekit.paths import check_apart
from posekit.render.draw import draw_poses
from posekit.track import build_tracker
from posekit.track.files import FORVIS_NAME, forvis, frame_order, read_pose_json, to_result
from posekit.types import PoseResult


@dataclass(frozen=True)
class TrackSummary:
    """What a tracking run wrote: the tracked json, its frames, the distinct track ids in it (people)
    and the drawn frames."""

    path: Path
    frames: int
    people: int
    drawn: list[Path]


def track_folder(
    imgdir: str | Path,
    in_json: str | Path,
    out_json: str | Path,
    visdir: str | Path | None = None,
    tracker: str = "oks",
    options: dict[str, Any] | None = None,
    forvis_dir: str | Path | None = None,
) -> TrackSummary:
    """Track the poses of in_json over the frames of imgdir and write out_json (and drawn frames).

    out_json ({imgname: [{keypoints, scores, idx}]}, posekit.io.results.TRACKED_FORMAT) is streamed
    frame by frame through the results writer and appears whole or not at all. A list-form in_json is
    also written in the dict form as alphapose-results-forvis.json into forvis_dir (None: beside
    in_json, as tracker-general.py does). Drawn frames keep the frame's file name (as `posekit infer`
    names vis/), so a visdir shared with infer holds one file per frame.
    """
    imgdir, in_json, out_json = Path(imgdir), Path(in_json), Path(out_json)
    people, is_list = read_pose_json(in_json)
    forvis_path = Path(forvis_dir or in_json.parent) / FORVIS_NAME
    writes_forvis = is_list and "forvis" not in in_json.name
    written = [out_json, forvis_path] if writes_forvis else [out_json]
    check_apart([imgdir, in_json], trees=[visdir] if visdir else [], files=written)
    if writes_forvis:
        atomic_write_json(forvis_path, forvis(people))
    sizes = {p["keypoints"].shape[0] for persons in people.values() for p in persons}
    if len(sizes) > 1:
        raise PosekitError(f"{in_json}: people have different keypoint counts {sorted(sizes)}")
    num_joints = sizes.pop() if sizes else 17
    if tracker == "oks" and num_joints != 17:
        raise PosekitError(f"{in_json}: {num_joints} keypoints per person; --tracker oks needs COCO-17")
    frames, paths = frame_order(imgdir, people, in_json)
    model = build_tracker(tracker, **(options or {}))
    ids: set[int] = set()
    drawn: list[Path] = []
    drawn_names = RenderingNames()  # as posekit infer names them: x.jpg and x.webp -> x.jpg, x.webp.jpg
    last_size: tuple[str, tuple[int, int]] | None = None
    with ResultsWriter(out_json.parent, TRACKED_FORMAT, file_name=out_json.name) as writer:
        for name in tqdm(frames, desc=f"tracking ({tracker})", unit="frame", disable=None):
            image = _read(paths.get(name))
            if image is not None:
                size = image.shape[1::-1]
                if last_size is not None and size != last_size[1]:
                    tqdm.write(
                        f"warning: {imgdir}: {name} is {size[0]}x{size[1]} but {last_size[0]} is "
                        f"{last_size[1][0]}x{last_size[1][1]}; frames of one video should share a size",
                        file=sys.stderr,
                    )
                last_size = (name, size)
            result = model.update(image, to_result(people.get(name, []), num_joints))
            writer.add(name, result)
            ids.update(int(i) for i in result.ids)
            if visdir and image is not None:
                drawn.append(drawn_names.path(visdir, name))
                _draw(drawn[-1], image, result)
    print(f"This video contains {len(ids)} people.")
    return TrackSummary(writer.path, writer.images, len(ids), drawn)


def _read(path: Path | None) -> np.ndarray | None:
    if path is None:
        return None
    try:
        return read_image_rgb(path)
    except PosekitError as exc:
        tqdm.write(f"warning: {exc}; its people are tracked without image correspondences", file=sys.stderr)
        return None


def _draw(path: Path, image_rgb: np.ndarray, result: PoseResult) -> None:
    canvas = draw_poses(
        cv2.cvtColor(image_rgb, cv2.COLOR_RGB2BGR), result, fast=True, show_box=True, tracking=True
    )
    write_image_bgr(path, canvas)
