"""Small helpers every UI tab uses: friendly errors, path checks, markdown tables.

Everything the UI writes goes below one root folder, chosen when it starts (`posekit ui --root`, default
the folder it was started in): an output folder typed as a relative path is taken inside it, and one that
resolves outside it (/etc, ../../x, a symlink out) is refused with a message. Every action also runs
with writes confined to the root (posekit.io.atomic.confined_writes), so a file written deeper down
(vis/, sep-json/, a training work folder) through a symlink that leads out of the root is refused too.
"""

from __future__ import annotations

import functools
import inspect
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from posekit.errors import PosekitError
from posekit.io.atomic import confined_writes


def _as_message(exc: Exception) -> gr.Error:
    """The gr.Error the page shows for an exception (unexpected ones also print their traceback)."""
    if isinstance(exc, gr.Error):
        return exc
    if isinstance(exc, PosekitError):
        return gr.Error(str(exc))
    traceback.print_exc()  # an unexpected failure: the message in the page, the traceback to the console
    return gr.Error(f"{type(exc).__name__}: {exc}")


def friendly_errors(action: Callable[..., Any]) -> Callable[..., Any]:
    """Show errors of an action as a message in the page, never as a traceback, and run it with writes
    confined to the UI's root folder.

    A generator action (live updates) stays a generator function, so Gradio still streams it; each of
    its steps runs confined (Gradio may run the steps in different threads)."""
    if inspect.isgeneratorfunction(action):

        @functools.wraps(action)
        def streaming(*args: Any, **kwargs: Any) -> Iterator[Any]:
            steps = action(*args, **kwargs)
            while True:
                try:
                    with confined_writes(ui_root()):
                        item = next(steps)
                except StopIteration:
                    return
                except Exception as exc:
                    raise _as_message(exc) from None
                yield item

        return streaming

    @functools.wraps(action)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with confined_writes(ui_root()):
                return action(*args, **kwargs)
        except Exception as exc:
            raise _as_message(exc) from None

    return wrapper


def required_path(value: str | None, what: str) -> Path:
    """A path typed by the user, or a clear message when the field is empty."""
    if not value or not str(value).strip():
        raise PosekitError(f"{what} is empty: type a path")
    return Path(str(value).strip()).expanduser()


_ROOT: list[Path] = []  # the UI's root folder, set once by set_root() when the UI starts


def set_root(folder: str | Path) -> Path:
    """Choose the folder every output of the UI must lie in (resolved; it must exist)."""
    root = Path(folder).expanduser().resolve()
    if not root.is_dir():
        raise PosekitError(f"{folder}: the UI's root folder does not exist")
    _ROOT[:] = [root]
    return root


def ui_root() -> Path:
    """The UI's root folder (the working folder until set_root is called)."""
    return _ROOT[0] if _ROOT else Path.cwd().resolve()


def output_folder(value: str | None, what: str = "output folder") -> Path:
    """The chosen output folder (created) inside the UI's root; everything an action writes goes below it."""
    root = ui_root()
    folder = root / required_path(value, what)  # an absolute path stays as typed
    resolved = folder.resolve()
    if not resolved.is_relative_to(root):
        raise PosekitError(
            f"{value}: {what} lies outside the UI's root folder {root}; choose a folder inside it "
            "(or start the UI with --root)"
        )
    if resolved.exists() and not resolved.is_dir():
        raise PosekitError(f"{folder}: {what} is a file, not a folder")
    resolved.mkdir(parents=True, exist_ok=True)
    return resolved


def inside(folder: Path, path: Path) -> Path:
    """`path` resolved, checked to lie inside `folder` (no writing outside the chosen output folder)."""
    resolved = path.resolve()
    if not resolved.is_relative_to(folder.resolve()):
        raise PosekitError(f"{path}: outside the output folder {folder}")
    return resolved


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    """A small markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
