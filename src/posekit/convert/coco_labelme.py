"""COCO person keypoints -> Labelme files (to review or fix an existing data set in Labelme).

Each image gets `<output>/<image stem>.json` beside a hard link (else a copy) of the image (named by its
whole file_name path, flattened with "__", when another image already took its name), so Labelme
and `posekit convert labelme` open the folder on its own. A person becomes its segmentation polygons
(its bbox as a rectangle where it has none) labelled `person` and one point per labelled keypoint
(v > 0), v = 1 flagged `occluded` as the Labelme reader expects; all with the person's group_id.
Crowd regions (RLE masks) are not people with keypoints and are left out.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posekit.errors import PosekitError
from posekit.io.images import read_image_rgb
from posekit.io.jsonio import read_json
from posekit.io.labelme import PERSON_LABEL
from posekit.io.labelme_write import labelme_document, shape, write_labelme


@dataclass
class CocoToLabelmeSummary:
    """What coco2labelme did: Labelme files written, existing ones kept, images skipped (with why)."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    people: int = 0
    crowd_regions: int = 0
    names: set[str] = field(default_factory=set)  # image names taken in the output folder (lower case)


def keypoint_names_of(data: dict[str, Any], path: Path) -> list[str]:
    """The keypoint names of the file's person category."""
    for category in data.get("categories") or []:
        if isinstance(category, dict) and category.get("keypoints"):
            return [str(name) for name in category["keypoints"]]
    raise PosekitError(f"{path}: no category with keypoint names (not a COCO keypoints file?)")


def person_shapes(annotation: dict[str, Any], names: list[str], group_id: int) -> list[dict[str, Any]]:
    """A COCO person annotation as Labelme shapes: polygons then labelled points."""
    polygons = (
        [
            [(poly[i], poly[i + 1]) for i in range(0, len(poly) - 1, 2)]
            for poly in (annotation.get("segmentation") or [])
            if isinstance(poly, list) and len(poly) >= 6
        ]
        if isinstance(annotation.get("segmentation"), list)
        else []
    )
    if not polygons:
        x, y, w, h = (float(v) for v in annotation["bbox"])
        polygons = [[(x, y), (x + w, y), (x + w, y + h), (x, y + h)]]
    shapes = [shape(PERSON_LABEL, poly, group_id, "polygon") for poly in polygons]
    values = annotation.get("keypoints") or []
    if len(values) != 3 * len(names):
        raise PosekitError(f"annotation {annotation.get('id')}: {len(values)} keypoint values, expected "
                           f"{3 * len(names)} ({len(names)} names)")  # fmt: skip
    for joint, name in enumerate(names):
        x, y, v = values[3 * joint : 3 * joint + 3]
        if v > 0:
            flags = {"occluded": True} if v == 1 else {}
            shapes.append(shape(name, [(x, y)], group_id, "point", flags=flags))
    return shapes


def coco_to_labelme(
    ann_path: str | Path,
    images_dir: str | Path,
    output: str | Path,
    overwrite: bool = False,
    on_image: Callable[[Path], None] | None = None,
) -> CocoToLabelmeSummary:
    """Write a Labelme file (and a link to the image) in `output` for every image of a COCO keypoints
    file; existing Labelme files are kept unless overwrite; a missing image is skipped and reported."""
    ann_path, images_dir, output = Path(ann_path), Path(images_dir), Path(output)
    data = read_json(ann_path, "COCO annotation file")
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise PosekitError(f"{ann_path}: not a COCO file (no 'images' list)")
    names = keypoint_names_of(data, ann_path)
    people: dict[Any, list[dict[str, Any]]] = {}
    summary = CocoToLabelmeSummary()
    for annotation in data.get("annotations") or []:
        if annotation.get("iscrowd"):
            summary.crowd_regions += 1
        else:
            people.setdefault(annotation.get("image_id"), []).append(annotation)
    output.mkdir(parents=True, exist_ok=True)
    for image in data["images"]:
        _write_image(image, people.get(image.get("id"), []), names, images_dir, output, overwrite, summary)
        if on_image is not None:
            on_image(images_dir / str(image.get("file_name", "")))
    return summary


def _write_image(
    image: dict[str, Any],
    annotations: list[dict[str, Any]],
    names: list[str],
    images_dir: Path,
    output: Path,
    overwrite: bool,
    summary: CocoToLabelmeSummary,
) -> None:
    file_name = Path(str(image.get("file_name", "")))
    source = images_dir / file_name
    name = file_name.name
    if name.lower() in summary.names:  # e.g. PoseTrack's images/val/<video>/000000.jpg: the whole path
        name = "__".join(file_name.parts)
    summary.names.add(name.lower())
    target_json = output / Path(name).with_suffix(".json").name
    if not source.is_file():
        summary.skipped.append((str(source), "image not found"))
        return
    if target_json.exists() and not overwrite:
        summary.kept.append(target_json)
        return
    shapes = [s for k, ann in enumerate(annotations, start=1) for s in person_shapes(ann, names, k)]
    width, height = image.get("width"), image.get("height")
    if not isinstance(width, int) or not isinstance(height, int):
        height, width = read_image_rgb(source).shape[:2]
    problem = place_image(source, output / name)
    if problem:
        summary.skipped.append((str(source), problem))
        return
    write_labelme(target_json, labelme_document(name, width, height, shapes))
    summary.written.append(target_json)
    summary.people += len(annotations)


def place_image(source: Path, target: Path) -> str | None:
    """Put the image beside its json (nothing when it is already there, else a hard link or a copy);
    the problem when another file or a symbolic link holds the name."""
    if target.is_symlink():
        return f"{target} is a symbolic link (never written through)"
    if target.exists():
        return None if target.samefile(source) else f"{target} is another file with the same name"
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return None
