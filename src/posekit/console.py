"""What posekit's commands print: posekit's own lines, more with -v, and never a runtime's chatter.

Lines go through tqdm.write, so an open progress bar is cleared and redrawn around them instead of
being broken. Native libraries (the LiteRT/TFLite runtime) write straight to file descriptor 2;
native_info_hidden() holds that output back while a model is loaded and passes on everything except
their `INFO: ` lines (with -v, everything).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

NATIVE_INFO_PREFIX = "INFO: "
_state = {"verbose": False}
_native_lock = threading.Lock()


def set_verbose(on: bool) -> None:
    """Turn the -v lines (detail(), the runtimes' info lines) on or off for this process."""
    _state["verbose"] = bool(on)


def is_verbose() -> bool:
    """Whether -v is on."""
    return _state["verbose"]


def say(message: str) -> None:
    """One line on stdout that leaves an open progress bar intact."""
    _write(message, sys.stdout)


def detail(message: str) -> None:
    """One line on stdout, printed only with -v (model loading, AlphaPose's stage messages)."""
    if is_verbose():
        say(message)


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """warnings.showwarning for the commands: one `warning: ...` line on stderr, bar intact."""
    _write(f"warning: {message}", sys.stderr)


def _write(line: str, stream) -> None:
    """tqdm.write (imported on the first line, so starting a command does not pay for it)."""
    from tqdm import tqdm

    tqdm.write(line, file=stream)


@contextmanager
def native_info_hidden() -> Iterator[None]:
    """Inside, what is written to file descriptor 2 is held in a temp file; on leaving, its lines are
    written to stderr except the native runtimes' `INFO: ` lines (all of them with -v, and nothing is
    held then). Errors and warnings the runtime prints stay visible, after the block."""
    if is_verbose():
        yield
        return
    with _native_lock, tempfile.TemporaryFile() as held:
        saved = _point_fd2_at(held)
        try:
            yield
        finally:
            if saved is not None:
                _restore_fd2(saved)
                held.seek(0)
                for line in held.read().decode("utf-8", "replace").splitlines():
                    if line and not line.startswith(NATIVE_INFO_PREFIX):
                        _write(line, sys.stderr)


def _point_fd2_at(held) -> int | None:
    """Send fd 2 to `held`; returns a copy of the old fd 2, or None when it cannot be redirected."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        return None
    os.dup2(held.fileno(), 2)
    return saved


def _restore_fd2(saved: int) -> None:
    with suppress(OSError, ValueError, AttributeError):
        sys.stderr.flush()
    os.dup2(saved, 2)
    os.close(saved)
