"""Safe, unique output file names: nothing can escape the output folder or overwrite another image."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

_UNSAFE = re.compile(r"[^\w.\-]+")  # \w keeps letters and digits of every script (e.g. Chinese names)
_WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}


def safe_file_name(name: str, fallback: str = "image") -> str:
    """A plain file name: the last path part, unsafe characters as '_', no leading dots or dashes."""
    base = PurePosixPath(name.replace("\\", "/")).name
    suffix = PurePosixPath(base).suffix
    stem = base[: len(base) - len(suffix)] if suffix else base
    stem = _UNSAFE.sub("_", stem).lstrip(".-") or fallback
    suffix = _UNSAFE.sub("", suffix.lower())
    if stem.lower() in _WINDOWS_RESERVED:
        stem = f"_{stem}"
    return stem + suffix


class UniqueNames:
    """Hands out names never given before (case-insensitively): 'a.jpg', then 'a_2.jpg', 'a_3.jpg'."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, name: str) -> str:
        """Reserve and return `name`, or the first free 'stem_N.suffix' variant of it."""
        path = PurePosixPath(name)
        candidate, n = name, 1
        while candidate.lower() in self._taken:
            n += 1
            candidate = f"{path.stem}_{n}{path.suffix}"
        self._taken.add(candidate.lower())
        return candidate
