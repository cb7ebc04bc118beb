"""Atomic file writes: write a temp file beside the target, then rename over it.

Temp files are named `.{target name}.posekit-{pid}-{random}.tmp`, so one left by a process that died
mid-write (kill -9, power loss) is recognised and removed by the next write into the same folder. A
target name too long to carry that suffix within the 255-byte limit is shortened (with a hash) in the
temp name, so any name that can be created can be written atomically.

Writes can be confined to one folder (`confined_writes`, used by the web UI for each action): every
write through this module, and every folder checked or locked for writing, is resolved (symlinks in
any part of the path followed) and refused when it lands outside that folder.

A whole folder is replaced the same way (`atomic_dir`): the new tree is built in a temp folder beside it,
then swapped in with one renameat2(RENAME_EXCHANGE) call, so at every instant the folder's path holds
either the complete old tree or the complete new one. Where the kernel or file system cannot exchange,
the old tree is renamed aside first (`.{name}.posekit-{pid}-previous`); a crash between the two renames
leaves the path empty for an instant, and the next `atomic_dir` on it puts the old tree back.
"""

from __future__ import annotations

import ctypes
import errno
import glob
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from posekit.errors import PosekitError
from posekit.io.outnames import NAME_MAX, fit_name

_WRITE_ROOT: ContextVar[Path | None] = ContextVar("posekit_write_root", default=None)


@contextmanager
def confined_writes(root: str | Path) -> Iterator[Path]:
    """Inside the block (this thread's context, and threads started with a copy of it), every write
    checked by `check_confined` must land below `root`."""
    resolved = Path(root).resolve()
    token = _WRITE_ROOT.set(resolved)
    try:
        yield resolved
    finally:
        _WRITE_ROOT.reset(token)


def check_confined(path: str | Path, follow: bool = False) -> Path:
    """Where a write to `path` lands: its folder resolved (a file replaced by rename), or all of it when
    `follow` (a folder written into, a file opened for appending); PosekitError when writes are
    confined and that is outside the confinement."""
    path = Path(path).expanduser()
    where = path.resolve() if follow else path.absolute().parent.resolve() / path.name
    root = _WRITE_ROOT.get()
    if root is not None and not where.is_relative_to(root):
        raise PosekitError(
            f"{path}: resolves to {where}, outside {root}, the only folder writes may go to (a symlink "
            "out of it?); nothing written there"
        )
    return where


def _temp_beside(path: Path) -> tuple[int, Path]:
    """A new temp file (fd, path) in the folder of `path`, named .<name>.posekit-<pid>-XXXX.tmp; stale
    temps of dead processes in that folder are removed first."""
    check_confined(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent)
    return fd, Path(tmp)


_TEMP_EXTRA = 40  # bytes a temp name adds: '.', '.posekit-', pid, '-', 8 random, '.tmp' or '-previous'


def _temp_prefix(path: Path) -> str:
    """'.{name}.posekit-{pid}-' with the name shortened so the whole temp name fits in NAME_MAX bytes."""
    return f".{fit_name(path.name, '', NAME_MAX - _TEMP_EXTRA)}.posekit-{os.getpid()}-"


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
    renames it into place, so `path` never holds a partial file; discard() removes the temp file.

    Each write() lands whole or not at all: when the disk is full or a file-size limit is hit, the file
    is cut back to the end of the last whole write and the OSError is raised, so the caller can still
    end the file (commit) with what was written before. A commit that fails keeps the temp file under
    `<name>.partial` beside the target and says so in a PosekitError."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd, self.tmp_path = _temp_beside(self.path)
        self._size = 0
        self._closed = self._done = False

    def write(self, text: str) -> None:
        """Append text (all of it, or nothing)."""
        data = memoryview(text.encode("utf-8"))
        done = 0
        try:
            while done < len(data):
                done += os.write(self._fd, data[done:])
        except OSError:
            if done:
                os.ftruncate(self._fd, self._size)
                os.lseek(self._fd, self._size, os.SEEK_SET)
            raise
        self._size += done

    def commit(self) -> Path:
        """Close the file and move it to `path`; on failure keep it as `<path>.partial` (PosekitError)."""
        try:
            self._close()
            _move_into_place(self.tmp_path, self.path)
        except OSError as exc:
            kept = self.path.with_name(fit_name(self.path.name, ".partial"))
            try:
                os.replace(self.tmp_path, kept)
            except OSError:
                kept = self.tmp_path
            self._done = True
            raise PosekitError(
                f"{self.path}: could not finish writing ({exc.strerror or exc}); the {self._size} bytes "
                f"written so far are kept in {kept}"
            ) from exc
        self._done = True
        return self.path

    def discard(self) -> None:
        """Close and remove the temp file (nothing happens after commit)."""
        self._close()
        if not self._done:
            self.tmp_path.unlink(missing_ok=True)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            os.close(self._fd)


def check_writable_folder(folder: str | Path, what: str = "output folder") -> Path:
    """Create `folder` if missing and check that a file can be written in it, before any work is done;
    PosekitError '<folder>: <what> cannot be written (<reason>)' otherwise."""
    folder = Path(folder)
    check_confined(folder, follow=True)
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


_TEMP_NAME = re.compile(r"^\..+\.posekit-(\d+)-[^.]+\.tmp$")
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty temp folder beside `path`; on success it replaces `path` as a whole, in one step
    (the old tree is deleted afterwards), else it is removed and `path` is untouched."""
    path = Path(path)
    check_confined(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _restore_previous(path)
    remove_stale_temps(path.parent)
    tmp = Path(tempfile.mkdtemp(prefix=_temp_prefix(path), suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        _swap_in(tmp, path)  # tmp now holds the old tree, if there was one
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def exchange_paths(a: Path, b: Path) -> None:
    """Swap two existing paths atomically (Linux renameat2 RENAME_EXCHANGE); OSError if unsupported."""
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available", str(a))
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a), None, str(b))


def _swap_in(new: Path, final: Path) -> None:
    if not final.exists() and not final.is_symlink():
        os.rename(new, final)
        return
    try:
        exchange_paths(new, final)
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            raise
    previous = final.with_name(f"{_temp_prefix(final)}previous")
    os.rename(final, previous)  # a crash right here is repaired by the next atomic_dir on `final`
    os.rename(new, final)
    shutil.rmtree(previous, ignore_errors=True)


def _restore_previous(final: Path) -> None:
    """Put back the old tree a crash left aside (fallback swap), or drop it if the new one is in place."""
    short = fit_name(final.name, "", NAME_MAX - _TEMP_EXTRA)
    for previous in final.parent.glob(f".{glob.escape(short)}.posekit-*-previous"):
        pid = previous.name.removeprefix(f".{short}.posekit-").removesuffix("-previous")
        if pid.isdigit() and process_alive(int(pid)):
            continue
        if final.exists():
            shutil.rmtree(previous, ignore_errors=True)
        else:
            os.rename(previous, final)


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete the atomic-write temp files and folders in `folder` whose writing process is dead."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        if match and not process_alive(int(match.group(1))):
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
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
