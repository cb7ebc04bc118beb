"""Where frames come from: image files (one, a list file, a folder), a video file, a webcam, the sample,
or (from Python) arrays; `open_source` picks one from whatever the caller gives."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from posekit.convert.names import UniqueNames
from posekit.errors import PosekitError
from posekit.io.images import (
    DEFAULT_MAX_PIXELS,
    IMAGE_SUFFIXES,
    checked_rgb_uint8,
    list_images,
    read_image_rgb,
)
from posekit.types import Detections, PoseResult


@dataclass
class Frame:
    """One image travelling through the pipeline; stages fill in detections and result.

    image is RGB uint8, or None when it could not be read (then error says why); new_scene is set by
    the detection schedule on the first frame of a scene (then no track is followed into it).
    """

    index: int
    name: str
    image: np.ndarray | None
    error: str | None = None
    timestamp: float | None = None
    detections: Detections | None = None
    result: PoseResult | None = None
    new_scene: bool = False


@dataclass
class Source:
    """Frames to process plus what outputs need: count (None if unknown), fps and a name for video;
    live: a camera (frames are detected one at a time, not batched); inputs: the files it reads (an
    output folder must not hold them)."""

    frames: Iterable[Frame]
    total: int | None
    fps: float | None
    stem: str
    is_video: bool
    live: bool = False
    inputs: tuple[Path, ...] = ()


def collect_image_paths(indir: str | None, list_file: str | None, image: str | None) -> list[Path]:
    """The images to process: `--list` (paths relative to --indir), else the folder, else one image."""
    if list_file:
        list_path = Path(list_file)
        if not list_path.is_file():
            raise PosekitError(f"{list_path}: image list file not found")
        base = Path(indir) if indir else Path.cwd()
        try:
            text = list_path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise PosekitError(f"{list_path}: image list is not UTF-8 text (byte {exc.start})") from None
        except OSError as exc:
            raise PosekitError(f"{list_path}: cannot read the image list ({exc.strerror or exc})") from None
        lines = [line.strip() for line in text.splitlines()]
        paths = [base / line for line in lines if line and not line.startswith("#")]
        if not paths:
            raise PosekitError(f"{list_path}: the image list is empty")
        return paths
    if indir:
        folder = Path(indir)
        if not folder.is_dir():
            raise PosekitError(f"{folder}: input folder not found")
        paths = list_images(folder)
        if not paths:
            others = sum(1 for p in folder.iterdir() if p.is_file())
            note = f" ({others} other file(s) ignored)" if others else ""
            kinds = ", ".join(s.lstrip(".") for s in IMAGE_SUFFIXES)
            raise PosekitError(f"{folder}: no images ({kinds}) in this folder{note}")
        return paths
    if image:
        return [Path(image)]
    raise PosekitError("no input: give --image, --list, --indir, --video, --webcam or --sample")


def frame_names(paths: list[Path]) -> list[str]:
    """The name of each image in results and vis/: its file name, as AlphaPose names it, unless two
    files share a name (a --list across folders); then every name is the path below the folder holding
    them all, flattened with "__" ("a__img.jpg", "b__img.jpg"), so results and rendered images stay
    distinct (and a name never holds a folder, for writers that keep only a file name)."""
    names = [path.name for path in paths]
    if len(set(names)) == len(names):
        return names
    resolved = [path.resolve() for path in paths]
    common = Path(os.path.commonpath([path.parent for path in resolved]))
    unique = UniqueNames()
    return [unique.take("__".join(path.relative_to(common).parts)) for path in resolved]


def image_frames(paths: list[Path], max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Iterator[Frame]:
    """Read each image as a Frame (named by frame_names); unreadable files or files over `max_pixels`
    become Frames with an error, so the run skips them with a warning and goes on."""
    for index, (path, name) in enumerate(zip(paths, frame_names(paths))):
        yield image_frame(index, name, path, max_pixels)


def image_frame(index: int, name: str, path: Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Frame:
    """One image file as a Frame; an unreadable or oversized file becomes a Frame with an error."""
    try:
        return Frame(index, name, read_image_rgb(path, max_pixels))
    except PosekitError as exc:
        return Frame(index, name, None, error=str(exc))


def video_frames(path: str | Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Iterator[Frame]:
    """Decode a video (frames over `max_pixels` refused); frames are named "{k}.jpg" as AlphaPose does."""
    from posekit.io.video import read_frames

    for frame in read_frames(path, max_pixels):
        yield Frame(frame.index, f"{frame.index}.jpg", frame.image, timestamp=frame.timestamp)


def open_images(paths: list[Path], max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Source:
    """A source over image files (each checked against `max_pixels` before it is decoded)."""
    return Source(
        image_frames(paths, max_pixels), len(paths), None, "images", is_video=False, inputs=tuple(paths)
    )


def open_video(path: str | Path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Source:
    """A source over a video file's frames (its frame rate is kept for the rendered video); a stream
    whose frames are over `max_pixels` is refused before anything is decoded."""
    from posekit.io.video import check_video_pixels

    info = check_video_pixels(path, max_pixels)
    frames = video_frames(path, max_pixels)
    return Source(
        frames, info.frames or None, float(info.fps), Path(path).stem, is_video=True, inputs=(Path(path),)
    )


def open_webcam(device: int) -> Source:
    """A source over a camera (OpenCV capture) until it stops delivering or the run is interrupted."""
    import cv2

    capture = cv2.VideoCapture(int(device))
    if not capture.isOpened():
        raise PosekitError(f"webcam {device}: cannot open the camera")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0

    def frames() -> Iterator[Frame]:
        try:
            index = 0
            while True:
                ok, bgr = capture.read()
                if not ok:
                    return
                yield Frame(index, f"{index}.jpg", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                index += 1
        finally:
            capture.release()

    return Source(frames(), None, fps if fps > 0 else 25.0, f"webcam{device}", is_video=True, live=True)


def item_frames(items: Iterable[object], max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Iterator[Frame]:
    """Frames from image paths and RGB arrays, in order: a path keeps its file name (an unreadable file
    becomes a Frame with an error), the k-th array is named "{k}.jpg" as video frames are."""
    for index, item in enumerate(items):
        if isinstance(item, str | Path):
            yield image_frame(index, Path(item).name, Path(item), max_pixels)
        else:
            yield Frame(index, f"{index}.jpg", checked_rgb_uint8(item, f"item {index}", grey=True))


SourceKind = Literal["auto", "image", "images", "folder", "list", "video", "webcam"]


def open_source(
    source: object,
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    *,
    kind: SourceKind = "auto",
    list_base: str | Path | None = None,
) -> Source:
    """The Source every caller (CLI, UI, batch, Python API) opens its input with.

    kind says what `source` is: "image" (one image file or RGB array), "images" (image paths and RGB
    arrays), "folder", "list" (a text file of image paths, relative to `list_base`, else the working
    folder), "video", "webcam" (a camera index), or "auto": decided from `source` (source_kind). A Source
    is returned as it is. Image files over `max_pixels` become Frames with an error (skipped), a video
    over it is refused.
    """
    if isinstance(source, Source):
        return source
    if kind == "auto":
        kind = source_kind(source)
    if kind == "images":
        return open_items(source, max_pixels)
    if kind == "image" and not isinstance(source, str | Path):
        frame = Frame(0, "0.jpg", checked_rgb_uint8(source, "image", grey=True))
        return Source([frame], 1, None, "images", is_video=False)
    if kind == "webcam":
        return open_webcam(_camera_index(source))
    if not isinstance(source, str | Path):
        raise PosekitError(f"not a {kind} path: {type(source).__name__}")
    if kind == "video":
        return open_video(source, max_pixels)
    if kind == "image":
        return open_images([Path(source)], max_pixels)
    if kind == "folder":
        return open_images(collect_image_paths(str(source), None, None), max_pixels)
    base = None if list_base is None else str(list_base)
    return open_images(collect_image_paths(base, str(source), None), max_pixels)


def source_kind(source: object) -> SourceKind:
    """What kind of input `source` is: an int is a webcam index; a path a folder, an image file (by its
    suffix) or else a video file; an array one image (a 4-d stack: images); any other iterable images."""
    if isinstance(source, bool):
        raise PosekitError(f"not an input: {source!r}")
    if isinstance(source, int):
        return "webcam"
    if isinstance(source, np.ndarray):
        return "images" if source.ndim == 4 else "image"
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            return "folder"
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return "image"
        if not path.is_file():
            raise PosekitError(f"{path}: no such video, image or folder")
        return "video"
    if not isinstance(source, Iterable):
        raise PosekitError(f"not an input: {type(source).__name__} (give a path, a webcam index or images)")
    return "images"


def open_items(items: object, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Source:
    """A source over image paths and RGB arrays: a list of paths only is opened as image files are
    (open_images), anything else frame by frame (item_frames)."""
    if not isinstance(items, Iterable):
        raise PosekitError(f"not a sequence of images: {type(items).__name__}")
    if isinstance(items, list | tuple) and items and all(isinstance(p, str | Path) for p in items):
        return open_images([Path(p) for p in items], max_pixels)
    total = len(items) if isinstance(items, list | tuple) else None
    return Source(item_frames(items, max_pixels), total, None, "images", is_video=False)


def _camera_index(source: object) -> int:
    """A webcam's index: an int, or a string of digits."""
    if isinstance(source, int) and not isinstance(source, bool):
        return source
    if isinstance(source, str) and source.isdigit():
        return int(source)
    raise PosekitError(f"webcam {source!r}: expected a camera index")
