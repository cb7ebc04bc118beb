"""Reading Labelme annotation files (any Labelme version) as people with the keypoints of one set.

A person is one or more `polygon` shapes labelled `person` sharing a `group_id`; its keypoints are
`point` shapes labelled with the keypoint names of the chosen set (posekit.skeleton: COCO-17 by default,
e.g. Halpe-26 adds head, neck, hip and the feet) carrying the same `group_id`. One person may omit
`group_id` altogether. Every problem found in a file is collected, then raised as one `LabelmeError`.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image

from posekit.errors import PosekitError
from posekit.skeleton import COCO_17, KeypointSet

PERSON_LABEL = "person"
# PIL format name -> the suffix an output file gets. These are the formats cv2 and COCO loaders read.
IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "BMP": ".bmp", "WEBP": ".webp"}
_EXIF_ORIENTATION = 0x0112
_MAX_PROBLEMS_SHOWN = 5


class LabelmeError(PosekitError):
    """A Labelme file that cannot be converted; `problems` lists every reason found."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        shown = problems[:_MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        self.reason = "; ".join(shown) + (f"; and {more} more problem(s)" if more else "")
        super().__init__(f"{path}: {self.reason}")


@dataclass(frozen=True)
class LabelmeImage:
    """Where a document's image comes from: a file (`path`) or the json's embedded `imageData`."""

    path: Path | None
    name: str  # output name before sanitizing: stem of the source + suffix of the real format
    width: int
    height: int
    format: str  # PIL format name, a key of IMAGE_FORMATS


@dataclass(frozen=True)
class LabelmePerson:
    """One annotated person: flattened polygons [x1, y1, x2, y2, ...] and K [x, y, v] keypoints."""

    group_id: int | None
    polygons: tuple[tuple[float, ...], ...]
    keypoints: tuple[tuple[float, float, int], ...]


@dataclass(frozen=True)
class LabelmeDocument:
    """A validated Labelme file."""

    json_path: Path
    image: LabelmeImage
    persons: tuple[LabelmePerson, ...]


@dataclass
class _Shape:
    index: int
    label: str
    kind: str
    group_id: int | None
    points: list[tuple[float, float]]
    occluded: bool

    def where(self) -> str:
        return f"shape {self.index} '{self.label}'"


def read_labelme(
    json_path: str | Path, root: str | Path | None = None, keypoints: KeypointSet = COCO_17
) -> LabelmeDocument:
    """Read and validate one Labelme json; `root` is the folder images must stay inside (default: its folder);
    point labels are the names of `keypoints` (normalised: 'Left Big Toe' is left_big_toe).

    Raises LabelmeError naming the file and every problem found.
    """
    json_path = Path(json_path)
    root = Path(root) if root is not None else json_path.parent
    problems: list[str] = []
    doc = _load_json(json_path, problems)
    if doc is None:
        raise LabelmeError(json_path, problems)
    image = _resolve_image(doc, json_path, root, problems)
    shapes = _parse_shapes(doc.get("shapes"), problems, keypoints)
    if image is not None:
        _check_size(doc, image, problems)
        _check_inside(shapes, image.width, image.height, problems)
    persons = _group_persons(shapes, problems, keypoints)
    if problems or image is None:
        raise LabelmeError(json_path, problems)
    return LabelmeDocument(json_path=json_path, image=image, persons=persons)


def read_image_bytes(document: LabelmeDocument) -> bytes:
    """The bytes of a document's image, exactly as stored (file content or decoded imageData)."""
    if document.image.path is not None:
        return document.image.path.read_bytes()
    problems: list[str] = []
    doc = _load_json(document.json_path, problems)
    data = _embedded_bytes(doc, problems) if doc is not None else None
    if data is None:
        raise LabelmeError(document.json_path, problems or ["imageData disappeared since it was read"])
    return data


def normalize_label(label: str) -> str:
    """'Left Eye', 'left-eye' and ' left_eye ' all become 'left_eye'."""
    return "_".join(label.strip().lower().replace("-", " ").split())


def _load_json(json_path: Path, problems: list[str]) -> dict[str, Any] | None:
    try:
        doc = json.loads(json_path.read_bytes())
    except OSError as exc:
        problems.append(f"cannot read the file ({exc.strerror or exc})")
        return None
    except (ValueError, RecursionError) as exc:
        problems.append(f"not valid JSON ({exc})")
        return None
    if not isinstance(doc, dict):
        problems.append("not a Labelme file (the JSON is not an object)")
        return None
    return doc


def _resolve_image(
    doc: dict[str, Any], json_path: Path, root: Path, problems: list[str]
) -> LabelmeImage | None:
    """The image from imagePath (relative to the json, inside root) or else from embedded imageData."""
    image_path = doc.get("imagePath")
    if image_path is not None and not isinstance(image_path, str):
        problems.append("imagePath is not a string")
        image_path = None
    if image_path and "\x00" in image_path:
        problems.append(f"imagePath {image_path!r} contains a NUL byte (\\x00), which no file name can hold")
        return None
    has_data = isinstance(doc.get("imageData"), str) and bool(doc["imageData"])
    relative = (image_path or "").replace("\\", "/")
    stem = PurePosixPath(relative).stem if relative else json_path.stem
    if relative:
        candidate = json_path.parent / relative
        inside = _is_inside(candidate, root)
        try:
            found = inside and candidate.is_file()
        except OSError as exc:  # ENAMETOOLONG and the like: this file's problem, not the run's
            problems.append(f"imagePath of {len(relative)} characters: {exc.strerror or exc}")
            return None
        if found:
            return _probe_image(candidate, stem, problems, source=candidate, json_path=json_path)
        if not has_data:
            problems.append(
                f"imagePath '{image_path}' escapes the input folder {root}"
                if not inside
                else f"image '{image_path}' not found beside the json and no imageData embedded"
            )
            return None
    data = _embedded_bytes(doc, problems)
    if data is None:
        if not relative and not problems:
            problems.append("no imagePath and no embedded imageData")
        return None
    return _probe_image(None, stem, problems, source=io.BytesIO(data), json_path=json_path)


def _is_inside(path: Path, root: Path) -> bool:
    try:
        return path.resolve().is_relative_to(_resolved(root, os.getcwd()))
    except (OSError, RuntimeError, ValueError):
        return False


@functools.lru_cache(maxsize=8)
def _resolved(root: Path, cwd: str) -> Path:
    """root.resolve(), cached per working folder (one input folder is checked for every file)."""
    return root.resolve()


def _embedded_bytes(doc: dict[str, Any], problems: list[str]) -> bytes | None:
    data = doc.get("imageData")
    if data is None or data == "":
        return None
    if not isinstance(data, str):
        problems.append("imageData is not a base64 string")
        return None
    try:
        return base64.b64decode(data, validate=False)
    except (binascii.Error, ValueError) as exc:
        problems.append(f"imageData is not valid base64 ({exc})")
        return None


def _probe_image(
    path: Path | None, stem: str, problems: list[str], source: Any, json_path: Path
) -> LabelmeImage | None:
    """Read the image header only: format and size (EXIF-rotated like Labelme and cv2 see it).

    PIL's decompression-bomb warning is repeated naming the file (PIL's own names none)."""
    what = f"image '{path.name}'" if path is not None else "embedded imageData"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(source) as img:
                fmt = img.format or ""
                width, height = img.size
                # Labelme rotates JPEG/WEBP by EXIF orientation (as cv2 does); PNG's getexif would decode.
                orientation = img.getexif().get(_EXIF_ORIENTATION, 1) if fmt in ("JPEG", "WEBP") else 1
        except Exception as exc:  # PIL raises many types for corrupt headers; all mean "not an image"
            problems.append(f"{what} is not a readable image ({exc})")
            return None
    for warning in caught:  # e.g. DecompressionBombWarning, which names no file
        warnings.warn(f"{path or json_path}: {what}: {warning.message}", warning.category, stacklevel=2)
    if fmt not in IMAGE_FORMATS:
        problems.append(f"{what} has format {fmt or 'unknown'}; supported: jpg, png, bmp, webp")
        return None
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    return LabelmeImage(path=path, name=stem + IMAGE_FORMATS[fmt], width=width, height=height, format=fmt)


def _parse_shapes(shapes: Any, problems: list[str], keypoints: KeypointSet) -> list[_Shape]:
    if not isinstance(shapes, list):
        problems.append("no 'shapes' list (not a Labelme file?)")
        return []
    parsed = []
    for index, raw in enumerate(shapes):
        shape = _parse_shape(index, raw, problems, keypoints)
        if shape is not None:
            parsed.append(shape)
    return parsed


def _parse_shape(index: int, raw: Any, problems: list[str], keypoints: KeypointSet) -> _Shape | None:
    if not isinstance(raw, dict):
        problems.append(f"shape {index} is not an object")
        return None
    label = raw.get("label")
    if not isinstance(label, str):
        problems.append(f"shape {index} has no text label")
        return None
    name = normalize_label(label)
    kind = raw.get("shape_type") or "polygon"  # Labelme < 3 wrote no shape_type: polygons only
    group_id = raw.get("group_id")
    if group_id is not None and (isinstance(group_id, bool) or not isinstance(group_id, int)):
        problems.append(f"shape {index} '{label}': group_id {group_id!r} is not an integer")
        return None
    points = _parse_points(raw.get("points"))
    if points is None:
        problems.append(f"shape {index} '{label}': points are not a list of [x, y] numbers")
        return None
    if name == PERSON_LABEL:
        if kind != "polygon":
            problems.append(f"shape {index} '{label}': a person must be a polygon, not a {kind!r}")
            return None
        if len(points) < 3:
            problems.append(f"shape {index} '{label}': a person polygon needs at least 3 points")
            return None
    elif name in keypoints.index:
        if kind != "point" or len(points) != 1:
            problems.append(f"shape {index} '{label}': a keypoint must be a single point, not a {kind!r}")
            return None
    else:
        expected = f"'person' or a {_set_title(keypoints)} keypoint name"
        problems.append(f"shape {index}: unknown label '{label}' (expected {expected})")
        return None
    return _Shape(index, name, kind, group_id, points, _is_occluded(raw))


def _parse_points(points: Any) -> list[tuple[float, float]] | None:
    if not isinstance(points, list) or not points:
        return None
    parsed = []
    for point in points:
        if not isinstance(point, list | tuple) or len(point) != 2:
            return None
        x, y = point
        if not (_is_number(x) and _is_number(y)):
            return None
        parsed.append((x, y))
    return parsed


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_occluded(raw: dict[str, Any]) -> bool:
    flags = raw.get("flags")
    description = raw.get("description")
    flagged = isinstance(flags, dict) and flags.get("occluded") is True
    described = isinstance(description, str) and description.strip().lower() == "occluded"
    return flagged or described


def _check_size(doc: dict[str, Any], image: LabelmeImage, problems: list[str]) -> None:
    """imageWidth/imageHeight (Labelme >= 4) must match the image, else the points belong to another one."""
    width, height = doc.get("imageWidth"), doc.get("imageHeight")
    if _is_number(width) and _is_number(height) and (width, height) != (image.width, image.height):
        problems.append(
            f"imageWidth x imageHeight {width}x{height} in the json differ from the image "
            f"({image.width}x{image.height})"
        )


def _check_inside(shapes: list[_Shape], width: int, height: int, problems: list[str]) -> None:
    for shape in shapes:
        for x, y in shape.points:
            if not (0 <= x <= width and 0 <= y <= height):
                problems.append(f"{shape.where()}: point ({x}, {y}) is outside the {width}x{height} image")
                break


def _set_title(keypoints: KeypointSet) -> str:
    return "COCO" if keypoints is COCO_17 else f"{keypoints.name} ({keypoints.num_joints}-point)"


def _group_persons(shapes: list[_Shape], problems: list[str], kset: KeypointSet) -> tuple[LabelmePerson, ...]:
    polygons: dict[int | None, list[_Shape]] = {}
    for shape in shapes:
        if shape.label == PERSON_LABEL:
            polygons.setdefault(shape.group_id, []).append(shape)
    if None in polygons and (len(polygons) > 1 or len(polygons[None]) > 1):
        problems.append("a person polygon without group_id among several people: give each person a group_id")
        return ()
    sole_person = len(polygons) == 1
    keypoints: dict[int | None, list[tuple[float, float, int]]] = {
        gid: [(0, 0, 0)] * kset.num_joints for gid in polygons
    }
    for shape in shapes:
        if shape.label == PERSON_LABEL:
            continue
        gid = shape.group_id
        if gid is None and sole_person:
            gid = next(iter(polygons))  # one person: its points need no group_id
        if gid not in polygons:
            problems.append(_orphan_message(shape, len(polygons)))
            continue
        index = kset.index[shape.label]
        if keypoints[gid][index][2] > 0:
            problems.append(f"person {_person_name(gid)} has two '{shape.label}' points")
            continue
        x, y = shape.points[0]
        keypoints[gid][index] = (x, y, 1 if shape.occluded else 2)
    return tuple(
        LabelmePerson(
            group_id=gid,
            polygons=tuple(tuple(v for point in s.points for v in point) for s in group),
            keypoints=tuple(keypoints[gid]),
        )
        for gid, group in polygons.items()
    )


def _orphan_message(shape: _Shape, num_people: int) -> str:
    if shape.group_id is not None:
        return f"{shape.where()}: no person polygon has group_id {shape.group_id}"
    if num_people == 0:
        return f"{shape.where()}: the image has no person polygon"
    return f"{shape.where()}: no group_id, but the image has {num_people} people"


def _person_name(group_id: int | None) -> str:
    return "without group_id" if group_id is None else f"with group_id {group_id}"
