"""Where user-provided and cached model files live (found with a helpful error), and the two guards of
every output folder: inputs and outputs kept apart, and one run at a time per folder."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from posekit.errors import MissingFileError, PosekitError
from posekit.io.atomic import check_confined, process_alive


def user_cache_dir() -> Path:
    """posekit's cache folder: $POSEKIT_HOME, else $XDG_CACHE_HOME/posekit, else ~/.cache/posekit."""
    if os.environ.get("POSEKIT_HOME"):
        return Path(os.environ["POSEKIT_HOME"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posekit"


def models_dir() -> Path:
    """Folder for model files posekit manages (the embedded default model, user weights copied in)."""
    return user_cache_dir() / "models"


def find_user_file(seed_path: str, explicit: str | None = None, what: str = "weights file") -> Path:
    """Find a user-provided file: the explicit path, else `seed_path` under the working directory,
    else its file name in the posekit models folder. Raises MissingFileError saying where to put it.
    """
    where = (
        f"put {Path(seed_path).name} at ./{seed_path} or in {models_dir()} (or pass its path); "
        "`posekit models list` shows every model file and where it goes"
    )
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file():
            return path
        if path.is_dir():
            raise MissingFileError(f"{what}: {path} is a folder, not a file (the path given); {where}")
        raise MissingFileError(f"{what} not found: {path} (the path given); {where}")
    candidates = [Path.cwd() / seed_path, models_dir() / Path(seed_path).name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise MissingFileError(f"{what} missing: {where}")


def check_apart(
    inputs: Iterable[str | Path],
    *,
    trees: Iterable[str | Path] = (),
    files: Iterable[str | Path] = (),
    recursive: bool = False,
) -> None:
    """Refuse a run that could write over what it reads, before anything is written.

    `trees` are the folders a run writes into (anything below them may be replaced), `files` the single
    files it writes. An input inside a tree, or equal to a written file, is refused; with `recursive`
    (a reader that walks whole input folders) a tree inside an input folder is refused too. Paths are
    compared resolved (a symlinked input also by where the link itself lies), so symlinks and `..` do
    not hide an overlap. Raises PosekitError naming both paths.
    """
    tree_paths = [Path(tree) for tree in trees]
    resolved_trees = [os.path.realpath(tree.expanduser()) for tree in tree_paths]
    written = {os.path.realpath(Path(file).expanduser()): Path(file) for file in files}
    parents: dict[str, str] = {}  # folder -> resolved folder: one realpath per input folder, not per file
    for item in inputs:
        text = os.path.abspath(os.path.expanduser(os.fspath(item)))
        parent, name = os.path.split(text)
        if parent not in parents:
            parents[parent] = os.path.realpath(parent)
        places = {os.path.join(parents[parent], name)}  # where the entry itself lies
        if os.path.islink(text):
            places.add(os.path.realpath(text))  # and what it points to
        for place in places:
            if place in written:
                raise PosekitError(
                    f"{written[place]}: the output file is the input {item}; write it elsewhere"
                )
            for tree, target in zip(tree_paths, resolved_trees):
                if _within(place, target) or (recursive and _within(target, place)):
                    kind = "folder" if os.path.isdir(place) else "file"
                    raise PosekitError(
                        f"{item}: the input {kind} and the output {tree} lie inside one another, so the "
                        "run would overwrite its input; nothing written: choose an output apart from the "
                        "input"
                    )


def _within(path: str, folder: str) -> bool:
    """Whether resolved `path` is `folder` or lies below it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


@contextmanager
def folder_lock(folder: str | Path, lock_name: str, busy: str) -> Iterator[Path]:
    """Hold `folder/lock_name` (a file holding this pid) while the block runs: a second run into the same
    folder fails with PosekitError '<folder>: <busy>' ({pid} in `busy` names the holder); a lock left by
    a dead process is taken over. Creates the folder."""
    folder = Path(folder)
    check_confined(folder, follow=True)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / lock_name
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            owner = _lock_owner(lock)
            if owner is not None and process_alive(owner):
                raise PosekitError(f"{folder}: {busy.format(pid=owner)}") from None
            lock.unlink(missing_ok=True)  # left by a process that died
            continue
        except OSError as exc:
            raise PosekitError(f"{lock}: cannot take the folder's lock ({exc.strerror or exc})") from None
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        break
    else:
        raise PosekitError(f"{lock}: cannot take the folder's lock")
    try:
        yield lock
    finally:
        lock.unlink(missing_ok=True)


def _lock_owner(lock: Path) -> int | None:
    try:
        return int(lock.read_text().strip())
    except (OSError, ValueError):
        return None
