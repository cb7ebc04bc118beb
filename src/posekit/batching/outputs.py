"""A unit's outputs under OUT/<rel>/: built in a staging folder, moved into place entry by entry with the
results json last, so a unit whose json is there and parses is complete; the manifest (batch.jsonl)."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from posekit.errors import PosekitError
from posekit.io.results import RESULTS_FILE

STAGING = ".posekit-staging"
MANIFEST = "batch.jsonl"
LOCK = ".posekit-batch.lock"


@contextmanager
def batch_lock(outdir: Path) -> Iterator[None]:
    """Hold OUT's batch lock for the run (the kernel drops it when the process ends, however it ends);
    PosekitError when another batch holds it."""
    with open(outdir / LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PosekitError(f"{outdir}: another posekit batch is writing into this folder") from None
        yield


def staging_folder(outdir: Path) -> Path:
    """A new, empty staging folder on OUT's file system (so moving out of it is a rename)."""
    folder = outdir / STAGING / uuid.uuid4().hex
    folder.mkdir(parents=True)
    return folder


def clear_staging(outdir: Path) -> None:
    """Drop the staging folder (what runs killed in flight left there)."""
    shutil.rmtree(outdir / STAGING, ignore_errors=True)


def unit_complete(final: Path, save_video: bool) -> bool:
    """Whether OUT/<rel>/ holds a finished unit: its results json parses (and the video, when asked,
    is there and not empty)."""
    try:
        json.loads((final / RESULTS_FILE).read_bytes())
    except (OSError, ValueError):
        return False
    if save_video:
        return any(p.stat().st_size > 0 for p in final.glob("AlphaPose_*.mp4"))
    return True


def commit(staging: Path, final: Path) -> None:
    """Move every file of staging into final (replacing files of the same name, folders merged so a
    nested unit's outputs below them stay), the results json last."""
    final.mkdir(parents=True, exist_ok=True)
    (final / RESULTS_FILE).unlink(missing_ok=True)  # the unit is incomplete until the new one lands
    _merge_into(staging, final, last=RESULTS_FILE)


def _merge_into(source: Path, target: Path, last: str | None = None) -> None:
    for entry in sorted(source.iterdir(), key=lambda p: p.name == last):
        destination = target / entry.name
        if entry.is_dir() and not entry.is_symlink():
            if destination.is_symlink() or (destination.exists() and not destination.is_dir()):
                destination.unlink()
            destination.mkdir(exist_ok=True)
            _merge_into(entry, destination)
        else:
            os.replace(entry, destination)


class Manifest:
    """OUT/batch.jsonl: one line per unit and run (input, output, status, frames, people, seconds,
    worker, error), appended and flushed to disk as each unit ends."""

    def __init__(self, outdir: Path) -> None:
        self.path = outdir / MANIFEST
        self.file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 (closed by close())

    def add(self, entry: dict[str, Any]) -> None:
        """Append one line and flush it to disk."""
        self.file.write(json.dumps(entry, ensure_ascii=False) + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self) -> None:
        """Close the file."""
        self.file.close()
