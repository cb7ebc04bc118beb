"""Claiming an experiment's work folder: one training at a time, and never over another run's files.

A work folder that already holds a run (checkpoint.pth, final_DPG.pth or model_N.pth) is continued only
by resuming from its own checkpoint.pth; anything else is refused, naming the resume flag and a free
experiment id for a fresh run. While a run trains, `.posekit-train.lock` (holding its pid) keeps a
second run out; a lock left by a dead process is taken over.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from posekit.errors import PosekitError
from posekit.io.atomic import remove_stale_temps
from posekit.paths import folder_lock

RESUME_FILE = "checkpoint.pth"
LOCK_FILE = ".posekit-train.lock"
_EXP_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+=-]*$")


def check_exp_id(exp_id: str) -> str:
    """The experiment id if it is a plain folder-name part (no /, no .., not hidden), else PosekitError."""
    if not _EXP_ID.match(exp_id) or ".." in exp_id:
        raise PosekitError(
            f"experiment id {exp_id!r}: use letters, digits and _ . + = - only (no '/', no '..', not "
            "starting with '.'), so the run stays in its work folder"
        )
    return exp_id


def run_files(work_dir: Path) -> list[Path]:
    """The files of an earlier run in `work_dir` that a new run would overwrite."""
    if not work_dir.is_dir():
        return []
    names = (RESUME_FILE, "final_DPG.pth", "final.pth")
    found = [work_dir / name for name in names if (work_dir / name).is_file()]
    return found + sorted(work_dir.glob("model_*.pth"))


def check_not_overwriting(work_dir: Path, exp_id: str, pretrained: str) -> None:
    """Refuse a run into a folder holding another run, unless it resumes that folder's checkpoint."""
    existing = run_files(work_dir)
    if not existing:
        return
    own = work_dir / RESUME_FILE
    if pretrained and own.is_file() and Path(pretrained).resolve() == own.resolve():
        return
    suffix = work_dir.name.removeprefix(f"{exp_id}-")
    taken = {p.name for p in work_dir.parent.iterdir()}
    free = next(f"{exp_id}-{n}" for n in range(2, 10_000) if f"{exp_id}-{n}-{suffix}" not in taken)
    resume = f"resume it with --pretrained {own}" if own.is_file() else "its checkpoint.pth is gone"
    raise PosekitError(
        f"{work_dir} already holds a training run ({existing[0].name}), nothing overwritten: {resume}, "
        f"or start a fresh run with --exp_id {free} (-> {work_dir.parent / f'{free}-{suffix}'})"
    )


@contextmanager
def claim(work_dir: Path) -> Iterator[None]:
    """Hold `work_dir`'s lock for the run (posekit.paths.folder_lock); PosekitError if a live process
    holds it. Temp files an earlier run left (a checkpoint save cut by kill -9) are removed."""
    busy = (
        "another training (pid {pid}) is running in this folder; wait for it, stop it, or use another "
        "experiment id"
    )
    with folder_lock(work_dir, LOCK_FILE, busy):
        remove_stale_temps(work_dir)
        yield
