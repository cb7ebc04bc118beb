"""The Labelme -> COCO keypoints job: check every file, split, then write images and json files.

Two phases so nothing is written when `strict` finds a problem: `plan_conversion` reads and checks,
`write_conversion` writes. `convert_labelme` runs both (the CLI and the UI call it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from posekit.convert.names import UniqueNames, safe_file_name
from posekit.convert.split import split_indices, val_count
from posekit.errors import MissingFileError, PosekitError
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
) -> ConversionPlan:
    """Read and check every *.json directly in `input_dir`, then split the good ones; writes nothing.

    `ratio` is the fraction of images that go to val; `progress(path)` is called after each file.
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
            documents.append(read_labelme(path, input_dir))
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
    )


def write_conversion(
    plan: ConversionPlan,
    output_dir: str | Path,
    images: bool = True,
    on_image: Callable[[ConvertedImage], None] | None = None,
) -> ConvertSummary:
    """Write <output_dir>/coco/{annotations/person_keypoints_{train,val}2017.json, train2017/, val2017/}.

    Images are hard-linked (else copied) byte for byte, never re-encoded. Existing split folders are
    replaced as a whole and json files written atomically, so a re-run leaves no stale file behind.
    With images=False only the json files are written (image folders are left as they are).
    """
    coco_root = Path(output_dir) / "coco"
    summary = ConvertSummary(coco_root=coco_root, skipped=list(plan.skipped))
    staging: dict[str, Path] = {}
    try:
        coco_root.mkdir(parents=True, exist_ok=True)
        if images:
            staging = {split: _make_staging(coco_root, image_folder(split)) for split in SPLITS}
        documents = _build_documents(plan, staging, summary, on_image)
        for split in SPLITS:
            if images:
                _replace_folder(staging.pop(split), coco_root / image_folder(split))
            write_coco(annotation_path(coco_root, split), documents[split])
    except OSError as exc:
        where = exc.filename or coco_root
        raise PosekitError(f"{where}: cannot write the converted data ({exc.strerror or exc})") from exc
    finally:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)
    return summary


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
        documents[split] = coco_document(image_entries, annotations)
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
) -> ConvertSummary:
    """Convert a folder of Labelme files into COCO keypoints under <output_dir>/coco.

    Bad files are skipped and listed in the summary with their reason; with `strict` any bad file
    raises PosekitError before anything is written.
    """
    plan = plan_conversion(input_dir, ratio, seed, progress)
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


def _make_staging(coco_root: Path, folder: str) -> Path:
    for leftover in coco_root.glob(f".{folder}.*"):  # from an interrupted earlier run
        shutil.rmtree(leftover, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix=f".{folder}.", dir=coco_root))
    path.chmod(0o755)
    return path


def _place_image(doc: LabelmeDocument, target: Path) -> None:
    source = doc.image.path
    if source is None:
        target.write_bytes(read_image_bytes(doc))
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _replace_folder(new: Path, final: Path) -> None:
    """Put `new` at `final`; an existing `final` is moved aside first, then deleted."""
    trash = None
    if final.exists() or final.is_symlink():
        trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
        final.rename(trash / final.name)
    new.rename(final)
    if trash is not None:
        shutil.rmtree(trash, ignore_errors=True)
