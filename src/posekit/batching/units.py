"""The units of a batch: each video file, each folder of images and each image file named by the inputs
(folders, files, glob patterns, or text files with one path per line), with the relative output path
that mirrors where it came from."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from posekit.io.images import IMAGE_SUFFIXES, natural_key

LIST_SUFFIXES = (".txt", ".list", ".lst")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".ts")
UNSUPPORTED_SCHEMES = ("s3://", "gs://", "gcs://", "az://", "abfs://", "http://", "https://", "hdfs://")


@dataclass(frozen=True)
class Unit:
    """One unit of work: a video, a folder of images or one image (kind), read from `path`; its outputs
    go to OUT/<rel>/."""

    path: Path
    kind: str  # "video", "images" (a folder) or "image"
    rel: str

    def describe(self) -> str:
        """The unit's input as written in the manifest."""
        return str(self.path)


def find_units(
    inputs: list[str | Path], exclude: Path | None = None
) -> tuple[list[Unit], list[tuple[str, str]]]:
    """The units the inputs name (in input order, each folder in natural order, no unit twice, nothing
    inside `exclude`, the output folder) and the inputs that name nothing usable, with why."""
    units: list[Unit] = []
    problems: list[tuple[str, str]] = []
    loose: list[tuple[Path, str]] = []  # files named one by one: rel decided once all are known
    inside = exclude.resolve() if exclude is not None else None
    for raw in inputs:
        for path, problem in _expand(str(raw)):
            folder = path.is_dir()
            kind = None if folder else _file_kind(path)
            if not problem and not folder and kind is None:
                problem = f"not a video ({', '.join(VIDEO_SUFFIXES)}), image or list file"
            if not problem and inside is not None and path.resolve().is_relative_to(inside):
                problem = f"lies inside the output folder {exclude}: choose an --outdir outside the inputs"
            if problem:
                url = str(raw).lower().startswith(UNSUPPORTED_SCHEMES)
                problems.append((str(raw) if url else str(path), problem))
            elif kind is None:  # a folder: a file without a kind has a problem
                units.extend(_folder_units(path, exclude))
            else:
                loose.append((path, kind))
    units.extend(_loose_units(loose))
    seen: set[Path] = set()
    unique = []
    for unit in units:
        key = unit.path.resolve()
        if exclude is not None and key.is_relative_to(exclude.resolve()):
            continue
        if key not in seen:
            seen.add(key)
            unique.append(unit)
    return _distinct_rels(unique), problems


def _expand(raw: str) -> list[tuple[Path, str | None]]:
    """The paths one input stands for: itself, a glob's matches (each as if named) or a list file's lines."""
    if raw.lower().startswith(UNSUPPORTED_SCHEMES):
        return [(Path(raw), "object-store and web URLs are not read directly: mount the bucket (e.g. "
                 "s3fs, gcsfuse) on every node and give its path")]  # fmt: skip
    if glob.has_magic(raw):
        matches = sorted(glob.glob(raw, recursive=True), key=natural_key)
        if not matches:
            return [(Path(raw), "the pattern matches nothing")]
        return [entry for match in matches for entry in _named(Path(match))]
    return _named(Path(raw))


def _named(path: Path) -> list[tuple[Path, str | None]]:
    """The paths one named path stands for: itself or a list file's lines."""
    if not path.exists():
        return [(path, "not found")]
    if path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
        return _list_entries(path)
    return [(path, None)]


def _list_entries(path: Path) -> list[tuple[Path, str | None]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [(path, f"cannot read the list ({exc})")]
    entries = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            entry = Path(line) if Path(line).is_absolute() else path.parent / line
            entries.extend(_expand(str(entry)))
    return entries


def _file_kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return "video" if suffix in VIDEO_SUFFIXES else "image" if suffix in IMAGE_SUFFIXES else None


def _folder_units(root: Path, exclude: Path | None) -> list[Unit]:
    """Every video under root and every folder under it that holds images, as units below root's name
    (nothing inside `exclude`)."""
    units = []
    skip = exclude.resolve() if exclude is not None else None
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted((d for d in dirs if skip is None or (here / d).resolve() != skip), key=natural_key)
        rel = Path(root.resolve().name) / here.relative_to(root)
        if any(Path(f).suffix.lower() in IMAGE_SUFFIXES for f in files):
            units.append(Unit(here, "images", rel.as_posix()))
        for name in sorted(files, key=natural_key):
            if Path(name).suffix.lower() in VIDEO_SUFFIXES:
                units.append(Unit(here / name, "video", (rel / name).as_posix()))
    return units


def _loose_units(files: list[tuple[Path, str]]) -> list[Unit]:
    """Files named one by one: outputs below the folder that holds them all (their paths below it)."""
    if not files:
        return []
    resolved = [path.resolve() for path, _ in files]
    common = Path(os.path.commonpath([p.parent for p in resolved]))
    return [Unit(path, kind, r.relative_to(common).as_posix()) for (path, kind), r in zip(files, resolved)]


def _distinct_rels(units: list[Unit]) -> list[Unit]:
    """Units whose rel another unit already took (or that is a folder holding another's) get a suffix."""
    taken: set[str] = set()
    out = []
    for unit in units:
        rel, n = unit.rel, 1
        while rel in taken:
            n += 1
            rel = f"{unit.rel}~{n}"
        taken.add(rel)
        out.append(Unit(unit.path, unit.kind, rel))
    return out
