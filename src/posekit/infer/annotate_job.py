"""The `posekit annotate` job: a folder of photos in, one Labelme file of predicted people per photo out
(pre-labelling), written atomically; existing Labelme files are kept, skipped, merged into or replaced
as the mode says."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from posekit import console
from posekit.choices import ANNOTATE_MODES
from posekit.convert.coco_labelme import place_image
from posekit.convert.prelabel import DEFAULT_KPT_THR, new_people, next_group_id, predicted_shapes
from posekit.errors import PosekitError
from posekit.infer.options import InferOptions
from posekit.infer.pipeline import Pipeline
from posekit.infer.run import OUTPUT_BUSY, OUTPUT_LOCK
from posekit.infer.sources import open_images
from posekit.io.images import list_images
from posekit.io.jsonio import read_json
from posekit.io.labelme_write import labelme_document, write_labelme
from posekit.io.outnames import fit_name
from posekit.paths import folder_lock
from posekit.skeleton import set_for_joints
from posekit.types import PoseResult


@dataclass(frozen=True)
class AnnotateOptions:
    """How `posekit annotate` writes: kpt_thr (lowest score of a pre-labelled point), mode (new: stop
    if any Labelme file exists; only-missing: pre-label only images without one; merge: add predicted
    people that overlap no annotated person; overwrite: replace), embed_images (imageData in the json)."""

    kpt_thr: float = DEFAULT_KPT_THR
    mode: str = "new"
    embed_images: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ANNOTATE_MODES:
            raise PosekitError(f"annotate mode must be one of {', '.join(ANNOTATE_MODES)}, not {self.mode!r}")
        if not 0.0 <= float(self.kpt_thr) <= 1.0:
            raise PosekitError(f"--kpt-thr must be between 0 and 1, not {self.kpt_thr!r}")


@dataclass
class AnnotateSummary:
    """What a run did: Labelme files written (new or replaced), merged into, kept as they were, images
    that failed (name, reason); people and points pre-labelled; seconds."""

    output: Path
    written: list[Path] = field(default_factory=list)
    merged: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    people: int = 0
    points: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class Task:
    """One photo and the Labelme file it gets."""

    image: Path
    json_path: Path


def plan_tasks(indir: Path, output: Path) -> tuple[list[Task], list[tuple[str, str]]]:
    """One task per image of indir (natural order), its json named by the image stem in output, as
    Labelme names it; an image whose stem another image already took is refused (Labelme keeps one
    json per stem)."""
    tasks: list[Task] = []
    refused: list[tuple[str, str]] = []
    taken: dict[Path, Path] = {}
    for image in list_images(indir):
        json_path = output / fit_name(image.stem, ".json")
        if json_path in taken:
            refused.append((str(image), f"{taken[json_path].name} has the same stem (one json per stem)"))
            continue
        taken[json_path] = image
        tasks.append(Task(image, json_path))
    return tasks, refused


def annotate_folder(
    models: InferOptions,
    indir: str | Path,
    output: str | Path | None = None,
    options: AnnotateOptions | None = None,
    progress: bool = True,
    names: Sequence[str] | None = None,
    on_image: Callable[[int, int], None] | None = None,
    log: Callable[[str], None] = console.detail,
) -> AnnotateSummary:
    """Pre-label every photo of indir into output (default: beside the photos) with the models
    `models` names, loaded only once the existing Labelme files allow the run (log: their loading
    messages); points are labelled with `names` (default: the names of the keypoint set the model
    predicts, e.g. Halpe-26's feet); on_image(done, total) is called after each photo."""
    options = options or AnnotateOptions()
    indir = Path(indir)
    output = Path(output) if output is not None else indir
    start = time.perf_counter()
    tasks, refused = plan_tasks(indir, output)
    summary = AnnotateSummary(output=output, failed=list(refused))
    existing = [task for task in tasks if task.json_path.exists()]
    if existing and options.mode == "new":
        raise PosekitError(
            f"{output}: {len(existing)} of the {len(tasks)} images already have a Labelme file (e.g. "
            f"{existing[0].json_path.name}); choose --only-missing (pre-label the others), --merge (add "
            "predicted people to them) or --overwrite (replace them)"
        )
    if options.mode == "only-missing":
        summary.kept.extend(task.json_path for task in existing)
        tasks = [task for task in tasks if task not in existing]
    with folder_lock(output, OUTPUT_LOCK, OUTPUT_BUSY):
        pipe = Pipeline(models, log=log)
        _annotate_all(pipe, tasks, options, names, summary, progress, on_image)
    summary.seconds = time.perf_counter() - start
    return summary


def _annotate_all(
    pipe: Pipeline,
    tasks: list[Task],
    options: AnnotateOptions,
    names: Sequence[str] | None,
    summary: AnnotateSummary,
    progress: bool,
    on_image: Callable[[int, int], None] | None,
) -> None:
    frames = pipe.frames(open_images([task.image for task in tasks], pipe.options.stream.max_pixels))
    bar = tqdm(total=len(tasks), desc="pre-labelling", unit="img", disable=not progress or None)
    try:
        for frame in frames:
            task = tasks[frame.index]
            if frame.image is None or frame.result is None:  # result is set on every readable frame
                reason = (frame.error or "not readable").removeprefix(f"{task.image}: ")
                _fail(summary, bar, str(task.image), reason)
            else:
                _annotate_one(task, frame.image.shape, frame.result, options, names, summary, bar)
            bar.update()
            if on_image is not None:
                on_image(frame.index + 1, len(tasks))
    finally:
        frames.close()
        bar.close()


def _annotate_one(
    task: Task,
    shape: tuple[int, ...],
    result: PoseResult,
    options: AnnotateOptions,
    names: Sequence[str] | None,
    summary: AnnotateSummary,
    bar: tqdm[Any],
) -> None:
    height, width = shape[:2]
    names = names or set_for_joints(result.keypoints.shape[1]).names
    if options.mode == "merge" and task.json_path.exists():
        try:
            document = read_json(task.json_path, "Labelme file")
            if not isinstance(document, dict) or not isinstance(document.get("shapes"), list):
                raise PosekitError(f"{task.json_path}: not a Labelme file (no 'shapes' list)")
        except PosekitError as exc:
            _fail(summary, bar, str(task.image), str(exc))
            return
        result = new_people(result, document["shapes"])
        first = next_group_id(document["shapes"])
        added = predicted_shapes(result, names, width, height, options.kpt_thr, first)
        document["shapes"] = [*document["shapes"], *added]
        write_labelme(task.json_path, document)
        summary.merged.append(task.json_path)
    else:
        problem = place_image(task.image, task.json_path.parent / task.image.name)
        if problem:
            _fail(summary, bar, str(task.image), problem)
            return
        added = predicted_shapes(result, names, width, height, options.kpt_thr)
        data = task.image.read_bytes() if options.embed_images else None
        write_labelme(task.json_path, labelme_document(task.image.name, width, height, added, data))
        summary.written.append(task.json_path)
    summary.people += len(result)
    summary.points += sum(1 for s in added if s["shape_type"] == "point")


def _fail(summary: AnnotateSummary, bar: tqdm[Any], name: str, reason: str) -> None:
    summary.failed.append((name, reason))
    bar.write(f"warning: skipped {name}: {reason}", file=sys.stderr)
