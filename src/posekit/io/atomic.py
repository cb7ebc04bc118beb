"""Atomic file writes: write a temp file beside the target, then rename over it.

Temp files are named `.{target name}.posekit-{pid}-{random}.tmp`, so one left by a process that died
mid-write (kill -9, power loss) is recognised and removed by the next write into the same folder.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path in the target's folder; on success it is renamed to `path`, else removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.posekit-{os.getpid()}-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the file normal permissions
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


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


_TEMP_NAME = re.compile(r"^\..+\.posekit-(\d+)-[^.]+\.tmp$")


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the atomic-write temp files in `folder` whose writing process is dead; returns them."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match and not process_alive(int(match.group(1))):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass  # another process cleaned it first, or the folder is read-only
    return removed


def process_alive(pid: int) -> bool:
    """True if a process with this pid runs on this machine (also another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
