"""The Labelme -> COCO keypoints job: check every file, split, then write images and json files.

Two phases so nothing is written when `strict` finds a problem: `plan_conversion` reads and checks,
`write_conversion` writes. `convert_labelme` runs both (the CLI and the UI call it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from posekit.convert.names import UniqueNames, safe_file_name
from posekit.convert.split import split_indices, val_count
from posekit.errors import MissingFileError, PosekitError
from posekit.io.atomic import atomic_dir
from posekit.io.coco import (
    SPLITS,
    annotation_path,
    coco_document,
    image_entry,
    image_folder,
    person_annotation,
    write_coco,
)
from posekit.io.images import natural_key
from posekit.io.labelme import LabelmeDocument, LabelmeError, read_image_bytes, read_labelme
from posekit.paths import check_apart
from posekit.skeleton import COCO_17, KeypointSet, keypoint_set


@dataclass(frozen=True)
class Skipped:
    """An input file left out, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class ConvertedImage:
    """One converted Labelme file: where its image went and how many people it holds."""

    json_path: Path
    split: str
    file_name: str
    image_id: int
    num_people: int


@dataclass
class ConversionPlan:
    """Checked documents already split into train and val, plus the files that will be skipped."""

    input_dir: Path
    train: list[LabelmeDocument]
    val: list[LabelmeDocument]
    skipped: list[Skipped]
    keypoints: KeypointSet = COCO_17

    @property
    def total(self) -> int:
        """Number of .json files found."""
        return len(self.train) + len(self.val) + len(self.skipped)


@dataclass
class ConvertSummary:
    """What a conversion wrote (`coco_root` holds annotations/, train2017/, val2017/) and what it skipped."""

    coco_root: Path
    converted: list[ConvertedImage] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)

    def count(self, split: str) -> int:
        """Number of converted images in a split ('train' or 'val')."""
        return sum(1 for item in self.converted if item.split == split)

    @property
    def num_people(self) -> int:
        """Number of person annotations written."""
        return sum(item.num_people for item in self.converted)


def plan_conversion(
    input_dir: str | Path,
    ratio: float = 0.2,
    seed: int = 0,
    progress: Callable[[Path], None] | None = None,
    keypoints: KeypointSet = COCO_17,
) -> ConversionPlan:
    """Read and check every *.json directly in `input_dir`, then split the good ones; writes nothing.

    `ratio` is the fraction of images that go to val; `progress(path)` is called after each file;
    `keypoints` is the set whose names the point labels are (posekit.skeleton, COCO-17 by default).
    """
    input_dir = Path(input_dir)
    val_count(0, ratio)  # reject a bad ratio before any work
    if not input_dir.is_dir():
        raise MissingFileError(f"{input_dir}: input folder not found")
    files = sorted(
        (p for p in input_dir.iterdir() if p.suffix.lower() == ".json" and p.is_file()), key=natural_key
    )
    if not files:
        raise PosekitError(f"{input_dir}: no Labelme .json files found")
    documents, skipped = [], []
    for path in files:
        try:
            documents.append(read_labelme(path, input_dir, keypoints))
        except LabelmeError as exc:
            skipped.append(Skipped(path, exc.reason))
        if progress is not None:
            progress(path)
    train, val = split_indices(len(documents), ratio, seed)
    return ConversionPlan(
        input_dir=input_dir,
        train=[documents[i] for i in train],
        val=[documents[i] for i in val],
        skipped=skipped,
        keypoints=keypoints,
    )


def write_conversion(
    plan: ConversionPlan,
    output_dir: str | Path,
    images: bool = True,
    on_image: Callable[[ConvertedImage], None] | None = None,
) -> ConvertSummary:
    """Write <output_dir>/coco/{annotations/person_keypoints_{train,val}2017.json, train2017/, val2017/}.

    Images are hard-linked (else copied) byte for byte, never re-encoded. The whole new coco/ tree is
    built beside the old one and swapped in with one atomic exchange (posekit.io.atomic.atomic_dir), so
    coco/ is all old or all new at every instant, whenever the run is killed. With images=False only the
    json files are new (the existing image folders are linked into the new tree as they are).
    """
    coco_root = Path(output_dir) / "coco"
    check_not_nested(plan.input_dir, coco_root)
    summary = ConvertSummary(coco_root=coco_root, skipped=list(plan.skipped))
    try:
        with atomic_dir(coco_root) as new_root:
            staging = {split: new_root / image_folder(split) for split in SPLITS}
            for folder in staging.values():
                if images:
                    folder.mkdir()
                elif (coco_root / folder.name).is_dir():
                    _link_tree(coco_root / folder.name, folder)
            documents = _build_documents(plan, staging if images else {}, summary, on_image)
            for split in SPLITS:
                write_coco(annotation_path(new_root, split), documents[split])
    except OSError as exc:
        where = exc.filename or coco_root
        raise PosekitError(f"{where}: cannot write the converted data ({exc.strerror or exc})") from exc
    return summary


def check_not_nested(input_dir: Path, coco_root: Path) -> None:
    """Refuse an input folder inside the output tree (the swap would delete it) or holding it."""
    check_apart([input_dir], trees=[coco_root], recursive=True)


def _build_documents(
    plan: ConversionPlan,
    staging: dict[str, Path],
    summary: ConvertSummary,
    on_image: Callable[[ConvertedImage], None] | None,
) -> dict[str, dict]:
    """The COCO document of each split; images go into `staging[split]` when staging is given."""
    names = _output_names(plan.train + plan.val)
    image_id = ann_id = 0
    documents = {}
    for split, docs in zip(SPLITS, (plan.train, plan.val)):
        image_entries, annotations = [], []
        for doc in docs:
            image_id += 1
            file_name = names[doc.json_path]
            if staging:
                _place_image(doc, staging[split] / file_name)
            image_entries.append(image_entry(image_id, file_name, doc.image.width, doc.image.height, split))
            for person in doc.persons:
                ann_id += 1
                annotations.append(person_annotation(ann_id, image_id, person.polygons, person.keypoints))
            item = ConvertedImage(doc.json_path, split, file_name, image_id, len(doc.persons))
            summary.converted.append(item)
            if on_image is not None:
                on_image(item)
        documents[split] = coco_document(image_entries, annotations, plan.keypoints)
    return documents


def convert_labelme(
    input_dir: str | Path,
    output_dir: str | Path,
    ratio: float = 0.2,
    seed: int = 0,
    strict: bool = False,
    images: bool = True,
    progress: Callable[[Path], None] | None = None,
    on_image: Callable[[ConvertedImage], None] | None = None,
    keypoints: KeypointSet | str = COCO_17,
) -> ConvertSummary:
    """Convert a folder of Labelme files into COCO keypoints under <output_dir>/coco.

    `keypoints`: the keypoint set (or its name, e.g. "halpe_26") whose names label the points.

    Bad files are skipped and listed in the summary with their reason; with `strict` any bad file
    raises PosekitError before anything is written.
    """
    check_not_nested(Path(input_dir), Path(output_dir) / "coco")
    kset = keypoint_set(keypoints) if isinstance(keypoints, str) else keypoints
    plan = plan_conversion(input_dir, ratio, seed, progress, kset)
    check_plan(plan, strict)
    return write_conversion(plan, output_dir, images=images, on_image=on_image)


def check_plan(plan: ConversionPlan, strict: bool) -> None:
    """Raise PosekitError (nothing written yet) if `strict` and a file is bad, or if no file is usable."""
    if not plan.skipped:
        return
    first = f"first: {plan.skipped[0].path}: {plan.skipped[0].reason}"
    if strict:
        bad = f"{len(plan.skipped)} of {plan.total} Labelme files have problems"
        raise PosekitError(f"{bad}, nothing written (--strict); {first}")
    if not plan.train and not plan.val:
        raise PosekitError(
            f"none of the {plan.total} Labelme files can be converted, nothing written; {first}"
        )


def _output_names(documents: list[LabelmeDocument]) -> dict[Path, str]:
    """Safe unique image names, given in input order so a file keeps its name whatever the split."""
    names = UniqueNames()
    ordered = sorted(documents, key=lambda doc: natural_key(doc.json_path))
    return {doc.json_path: names.take(safe_file_name(doc.image.name)) for doc in ordered}


def _place_image(doc: LabelmeDocument, target: Path) -> None:
    source = doc.image.path
    if source is None:
        target.write_bytes(read_image_bytes(doc))
        return
    _link_or_copy(str(source), str(target))


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link (else copy) every file of `source` into a new folder `target`."""
    shutil.copytree(source, target, copy_function=_link_or_copy)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
