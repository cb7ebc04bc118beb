"""Names of the files a run writes per input (rendered images, sep-json files): unique within the run
whatever the input names, the same on every run over the same inputs, and short enough to create."""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath

NAME_MAX = 255  # bytes in one file name on Linux, macOS and Windows file systems


def fit_name(stem: str, suffix: str, limit: int = NAME_MAX) -> str:
    """`stem + suffix`, or, when that is over `limit` bytes (UTF-8), the stem cut at a character
    boundary plus '~' and 8 hex digits of the whole stem's hash, so different long stems stay apart."""
    name = stem + suffix
    if len(name.encode()) <= limit:
        return name
    digest = "~" + hashlib.sha1(stem.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    room = limit - len((digest + suffix).encode())
    cut = stem.encode("utf-8", "surrogateescape")[: max(room, 0)].decode("utf-8", "ignore")
    return cut + digest + suffix


class OutputNames:
    """Hands out one output file name per input name with a given suffix: AlphaPose's `stem + suffix`
    when free ('x.jpg' -> 'x.json'); else the whole input name plus the suffix ('x.webp' ->
    'x.webp.json'); else a numbered stem ('x_2.json'). Names are compared case-insensitively, so they
    stay apart on case-insensitive file systems too."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, name: str, suffix: str) -> str:
        """Reserve and return the output name for input `name` with `suffix` (e.g. '.json')."""
        base = PurePosixPath(name).name
        stem = PurePosixPath(base).stem if PurePosixPath(base).suffix else base
        candidates = [fit_name(stem, suffix), fit_name(base, suffix)]
        n = 2
        while all(c.lower() in self._taken for c in candidates):
            candidates.append(fit_name(f"{stem}_{n}", suffix))
            n += 1
        chosen = next(c for c in candidates if c.lower() not in self._taken)
        self._taken.add(chosen.lower())
        return chosen
