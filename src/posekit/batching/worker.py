"""One batch worker: a Pipeline loaded once, running unit after unit into staging and committing each."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from posekit import console
from posekit.batching.outputs import commit, staging_folder
from posekit.batching.units import Unit
from posekit.errors import PosekitError
from posekit.infer.options import InferOptions
from posekit.infer.pipeline import Pipeline
from posekit.infer.sources import Source, SourceKind, open_source


@dataclass
class UnitResult:
    """How one unit ended: status "done" or "failed", frames, people, seconds, the worker (host:pid)
    and a one-line error (for done units: the images skipped inside it, if any)."""

    status: str
    frames: int = 0
    people: int = 0
    seconds: float = 0.0
    worker: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The result as plain data."""
        return asdict(self)


def _one_line(exc: Exception) -> str:
    """A PosekitError's message; another exception's type and first line."""
    first = (str(exc).strip().splitlines() or [""])[0]
    return first if isinstance(exc, PosekitError) else f"{type(exc).__name__}: {first}"


UNIT_SOURCE_KINDS: dict[str, SourceKind] = {"video": "video", "images": "folder", "image": "image"}


def open_unit(unit: Unit, max_pixels: int | None) -> Source:
    """The frames of a unit, as `posekit infer --video/--indir/--image` opens them."""
    return open_source(unit.path, max_pixels, kind=UNIT_SOURCE_KINDS[unit.kind])


class UnitWorker:
    """Runs units with one Pipeline (its models loaded once); torch uses `threads` threads."""

    def __init__(self, options: InferOptions, threads: int = 1) -> None:
        import torch

        torch.set_num_threads(max(1, int(threads)))
        self.options = options
        self.name = f"{os.uname().nodename}:{os.getpid()}"
        self.pipe: Pipeline | None = None
        self.error = ""
        try:
            self.pipe = Pipeline(options)
        except Exception as exc:  # reported by ready() as one line, not as Ray's traceback
            self.error = _one_line(exc)

    def ready(self) -> str:
        """Once the models are loaded: "" when the worker can run units, else why not."""
        return self.error

    def run(self, unit: Unit, outdir: str) -> UnitResult:
        """Run one unit into OUT/<rel>/ (staged, then committed); failures come back as a result."""
        started = time.perf_counter()
        if self.pipe is None:
            return self._result("failed", started, error=self.error)
        staging = staging_folder(Path(outdir))
        try:
            pipe = self.pipe.with_options(outdir=str(staging))
            summary = pipe.run(
                open_unit(unit, self.options.stream.max_pixels), progress=False, log=console.detail
            )
            skipped = "; ".join(f"{name}: {error}" for name, error in summary.failed[:3])
            if summary.interrupted:
                raise PosekitError("interrupted")
            commit(staging, Path(outdir) / unit.rel)
            note = f"skipped {len(summary.failed)} unreadable image(s): {skipped}" if summary.failed else ""
            return self._result("done", started, summary.frames, summary.people, note)
        except PosekitError as exc:
            return self._result("failed", started, error=str(exc).removeprefix(f"{unit.path}: "))
        except Exception as exc:  # an unexpected error in one unit must not end the batch
            return self._result("failed", started, error=_one_line(exc))
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _result(
        self, status: str, started: float, frames: int = 0, people: int = 0, error: str = ""
    ) -> UnitResult:
        seconds = time.perf_counter() - started
        return UnitResult(status, frames, people, seconds, self.name, " ".join(error.split()))
