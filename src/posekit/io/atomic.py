"""Atomic file writes: write a temp file beside the target, then rename over it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from posekit.errors import PosekitError


def _temp_beside(path: Path) -> tuple[int, Path]:
    """A new temp file (fd, path) in the folder of `path`, named .<name>.XXXX.tmp."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    return fd, Path(tmp)


def _move_into_place(tmp_path: Path, path: Path) -> None:
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
    os.replace(tmp_path, path)


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; on success it is renamed to `path`, else removed."""
    path = Path(path)
    fd, tmp_path = _temp_beside(path)
    os.close(fd)
    try:
        yield tmp_path
        _move_into_place(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


class AtomicTextFile:
    """A UTF-8 text file written piece by piece: it lives at a temp path beside `path` until commit()
    renames it into place, so `path` never holds a partial file; discard() removes the temp file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        fd, self.tmp_path = _temp_beside(self.path)
        self._file = os.fdopen(fd, "w", encoding="utf-8")

    def write(self, text: str) -> None:
        """Append text."""
        self._file.write(text)

    def commit(self) -> Path:
        """Close the file and move it to `path`."""
        self._file.close()
        _move_into_place(self.tmp_path, self.path)
        return self.path

    def discard(self) -> None:
        """Close and remove the temp file (nothing happens after commit)."""
        self._file.close()
        self.tmp_path.unlink(missing_ok=True)


def check_writable_folder(folder: str | Path, what: str = "output folder") -> Path:
    """Create `folder` if missing and check that a file can be written in it, before any work is done;
    PosekitError '<folder>: <what> cannot be written (<reason>)' otherwise."""
    folder = Path(folder)
    try:
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(20, "it is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".posekit-write-check.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise PosekitError(f"{folder}: {what} cannot be written ({exc.strerror or exc})") from None
    return folder


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text to `path` atomically (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(path: str | Path, obj: Any, indent: int | None = None) -> None:
    """Write `obj` as JSON to `path` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=indent))


def atomic_write_with(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call write(tmp_path) and move the result to `path` atomically (for torch.save, cv2.imwrite...)."""
    with atomic_path(path) as tmp:
        write(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
